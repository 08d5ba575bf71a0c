"""ribray's speed benchmarks: `python -m benchmarks.run --out results.json`.

One module per measurement, each with a `measure(...)` that returns a `Section`:
- train_speed:    ribray's Trainer inside a Ray Tune trial vs a bare PyTorch/timm loop
- eval_speed:     evaluation from JPEG files vs forward-only and vs a PIL DataLoader
- multi_model:    k models scored per decoded batch vs forward-only and k separate passes
- trial_overhead: Ray Tune's dead time between trials on a warm cluster
- makespan:       the PlanSearcher's order vs all fine-tunes first, on sleep trials

`run` measures them in one process on one device and prints and writes the results.
"""
