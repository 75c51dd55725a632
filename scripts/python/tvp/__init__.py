"""The Python backends of the workspace: the tutorial's demos on `threading` and on
`multiprocessing`, speaking the same protocol as the Rust backends.

- `contract`: the catalogue, each demo's constants, workloads, outcomes and their checks,
  mirroring `shared/contract`; `download`: the work of `download` that is not the mechanism.
- `cli` and `runner`: the command line, the trace, the run context, the JSON document and the
  exit codes both backends share (`shared/runner`'s counterpart).
- `threads_backend` and `processes_backend`: every demo, one function each, mirroring each
  other; only how a worker is made, and how it shares and reports, differs.
"""
