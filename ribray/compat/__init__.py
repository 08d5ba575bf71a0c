"""Code that resumes runs of older ribray versions, gathered here and time-boxed.

ribray 0.1 lived 8 days; what an interrupted run of it (or of 0.2.0) pickled must still resume,
for a while. Everything that only serves such a resume is in this package, imported by the
restore path alone (engine/tune_run.py's `_restored_tuner`, and the searcher and progress
callback a restored Tuner unpickles: a lint-imports contract in pyproject.toml), and goes in the
version named below. `import ribray` installs nothing: the module hook is installed just before
`Tuner.restore`, and says so when a 0.1 run's pickle is restored through it.

| piece                             | protects                                          | goes in |
|-----------------------------------|---------------------------------------------------|---------|
| moved.py: 0.1's flat module paths | `--resume` of a 0.1 run: its tuner.pkl, trial and | 0.3     |
| (ribray.searcher, .progress, ...) | search states name ribray.searcher, .sweep, ...   |         |
| legacy_config.py: 0.1's untyped   | `--resume` of a 0.1 run: its searcher state and   | 0.3     |
| Tune configs as typed trials      | trials hold them (ids checked unchanged)          |         |
| pickles.searcher_attributes       | `--resume` of a 0.1 / 0.2.0 run: its PlanSearcher | 0.4     |
|                                   | pickle (attributes, no `_saved`; 0.1: a cost)     |         |
| pickles.saved_trials              | `--resume` of a 0.1 / 0.2.0 run: searcher states  | 0.4     |
|                                   | with every config (0.1: no hours, estimated)      |         |
| pickles.progress_attributes       | the progress line of a resumed 0.1 / 0.2.0 run    | 0.4     |
|                                   | (0.1: counts, no plan ids; later attributes)      |         |

Removing a piece: delete it and its call: `_restored_tuner` (install, `read=read_trial`: then
run_trial's `read` parameter goes too), `PlanSearcher.__setstate__` (restore `_saved`) and
`.set_state` (its "trials" branch), `Progress.__setstate__`, progress's `_label` (back to
`Trial.from_config`); then tests/engine/test_legacy_resume.py and tests/compat/.

Kept in place, not time-boxed (it protects GPU-hours and results, not a resume):
- stable trial ids: identities leave out what 0.1 did not have at its default
  (plan/trial.py `subset_identity`, `Evaluation.identity`, `TrainOptions.identity`'s compile;
  tests/plan/test_trial_ids.py); the spec's 0.1 decode names `cpu` / `gpu` (options.py
  `LEGACY_DECODE`, data/loading.py).
- old shards evolved on read (results/store.py), their identity and inputs taken from their
  columns when they recorded none (results/identity.py, results/checks.py), 0.1 shards without
  a label (results/sync.py), rows without `decode` / `rib` (report/rows.py, report/scope.py).
- sweep folders of older versions, without ribray-sweep.json (results/layout.py); Tune runs
  without ribray-trials.json (engine/tune_run.py `recorded_trials`, engine/sweep.py).
- weights without fingerprints (trials/weights.py).
"""
