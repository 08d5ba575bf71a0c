"""`ribray plan --gpus N --price P`: the wall time of what is left to run on N GPUs (the sweep's
own order, simulated over the estimated durations, dependencies included) and what it costs."""

from __future__ import annotations

import json

import pytest

from conftest import ribray_cli, tiny_spec, write_spec


@pytest.fixture
def hour_rates(tmp_path):
    """Rates at which the tiny spec's trials take whole hours: evaluating imagenet_val +
    imagenet_r (50,000 + 30,000 images) takes 1 h, a training epoch of imagenet_r (30,000) 1 h."""
    rates = tmp_path / "rates.json"
    train, evaluation = 30_000 / 3600, 80_000 / 3600
    rates.write_text(json.dumps({"device": "Test GPU", "measured": "2026-01-02",
                                 "default": {"train": train, "train_compiled": train, "eval": evaluation}}))
    return rates


def test_wall_time_follows_the_dependencies_and_the_cost_counts_gpus_held_and_busy(spec_file, hour_rates):
    result = ribray_cli("plan", spec_file, "--summary", "--throughput", hour_rates, "--gpus", 2, "--price", "2.5")
    assert result.exit_code == 0, result.output
    # 2 GPUs: pretrained and ft start at once; WiSE-FT starts when ft ends at 2 h and ends at 3 h
    assert ("on 2 GPU(s), 2 trial(s) at once: 3h00m wall clock for the 3 trial(s) to run, GPUs busy 67 % "
            "(the sweep's order simulated") in result.output
    assert ("cost at $2.5 per GPU-hour (the given price): $15.00 for 2 GPU(s) held 3h00m; $10.00 of busy GPU time "
            "(what an autoscaler that removes idle GPUs bills)") in result.output
    assert "durations at the rates of Test GPU, measured 2026-01-02" in result.output

    one = ribray_cli("plan", spec_file, "--summary", "--throughput", hour_rates, "--gpus", 1, "--price", "2.5")
    assert "on 1 GPU(s), 1 trial(s) at once: 4h00m wall clock for the 3 trial(s) to run, GPUs busy 100 %" in one.output
    many = ribray_cli("plan", spec_file, "--summary", "--throughput", hour_rates, "--gpus", 8)
    assert "on 8 GPU(s), 8 trial(s) at once: 3h00m wall clock" in many.output  # ft -> WiSE-FT is the critical path
    # without --price: the cluster configs' instance types
    assert "cost at $1.212 per GPU-hour (AWS g5.2xlarge (1x A10G) on-demand in us-east-1" in many.output
    assert "cost at $0.854 per GPU-hour (GCP g2-standard-8 (1x L4) on-demand in us-central1" in many.output
    assert "$29.09 for 8 GPU(s) held 3h00m" in many.output  # 8 x 3 h x $1.212

    alone = ribray_cli("plan", spec_file, "--summary", "--throughput", hour_rates, "--price", "g5.2xlarge")
    assert "cost at $1.212 per GPU-hour (AWS g5.2xlarge" in alone.output
    assert "$4.85 for the 4.0 GPU-hours to run" in alone.output and "wall clock" not in alone.output

    payload = json.loads(ribray_cli("plan", spec_file, "--json", "--throughput", hour_rates, "--gpus", 2,
                              "--price", "2.5").output)
    assert payload["schedule"] == {"gpus": 2, "trials_at_once": 2, "wall_hours": 3.0, "gpu_busy_share": 0.667}
    assert payload["cost"] == {"usd_per_gpu_hour": 2.5, "price_of": "the given price", "usd_gpu_hours": 10.0,
                               "usd_gpus_held": 15.0}


def test_wall_time_is_of_what_is_left_to_run(tmp_path, spec_file, hour_rates):
    from ribray.plan import make_plan
    from ribray.results import SweepLayout, write_shard
    from ribray.spec import load_spec
    from ribray.storage import Location

    finetune = next(t for t in make_plan(load_spec(spec_file)).trials if t.kind == "finetune")
    sweep = tmp_path / "runs" / "t"
    SweepLayout(Location(str(sweep))).mark("t", "t", "spec")
    write_shard(Location(str(sweep / "results")), finetune.trial_id, [{"trial_id": finetune.trial_id}])
    result = ribray_cli("plan", spec_file, "--summary", "--throughput", hour_rates, "--gpus", 2, "--price", "1")
    assert "3 trials (1 pretrained, 1 finetune, 1 interpolate); 1 done, 2 to run" in result.output
    assert "on 2 GPU(s), 2 trial(s) at once: 1h00m wall clock for the 2 trial(s) to run" in result.output
    assert "$2.00 for 2 GPU(s) held 1h00m; $2.00 of busy GPU time" in result.output


def test_trials_claiming_two_gpus_run_half_as_many_at_once(tmp_path, fake_data, hour_rates):
    spec = tiny_spec(tmp_path, fake_data, downstream=["imagenet_r"], resources={"gpu": 2, "cpu": 1})
    path = write_spec(tmp_path / "two.yaml", spec)
    result = ribray_cli("plan", path, "--summary", "--throughput", hour_rates, "--gpus", 2, "--price", "1")
    assert "on 2 GPU(s), 1 trial(s) at once: 4h00m wall clock" in result.output
    assert "$8.00 for 2 GPU(s) held 4h00m; $8.00 of busy GPU time" in result.output
    result = ribray_cli("plan", path, "--gpus", 1)
    assert result.exit_code == 1
    assert "--gpus 1: each trial claims 2 GPU(s) (resources.gpu), so not one trial fits" in result.output


@pytest.mark.parametrize("args,message", [
    (["--price", "cheap"], "Invalid value for '--price': give dollars per GPU-hour (e.g. 2.5) or one of g5.2xlarge, "
                           "g2-standard-8"),
    (["--price", "-1"], "Invalid value for '--price'"),
    (["--gpus", "0"], "Invalid value for '--gpus': 0 is not in the range x>=1"),
])
def test_bad_gpus_or_price_is_a_usage_error(spec_file, args, message):
    result = ribray_cli("plan", spec_file, *args)
    assert result.exit_code == 2 and message in result.output, result.output
