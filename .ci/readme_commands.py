"""Print the README's two commands, as the README writes them: the first two ```bash blocks after
"On a fresh machine" (set up and run the demo sweep; run the tests), one per line. `.ci/run` runs
exactly these, so the documented path is the tested one."""

import re
import sys
from pathlib import Path

text = (Path(__file__).resolve().parent.parent / "README.md").read_text()
start = text.find("On a fresh machine")
blocks = re.findall(r"```bash\n(.*?)```", text[start:], flags=re.DOTALL)[:2] if start >= 0 else []
commands = [block.strip() for block in blocks]
if len(commands) != 2 or any("\n" in command or not command for command in commands):
    sys.exit("README.md: expected two one-line ```bash blocks after 'On a fresh machine'")
print("\n".join(commands))
