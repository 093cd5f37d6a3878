"""The math the notebooks of the RLHF/DPO course share: one concept of the course a module.

bradley_terry (01), kl (02), policy_gradient (03), optimum (04), dpo and tabular_dpo (05, 06),
models and data (the toy policies, the tiny LM, batches and samples), toyworld (02's world);
checks (every argument check), numeric (dtype, device, threads, seeds, finite differences),
plots (one style), symbolic and verify (sympy building blocks, verdict lines).

A public function checks its arguments in one line, then computes its formula, and says where
the formula is taught. helpers/README.md maps each formula to its function and notebook.
Importing a module changes nothing global: threads, seeds, the plot style and the garbage
collector are explicit calls (numeric.set_threads, numeric.seed_everything, plots.use_style,
numeric.freeze_gc).
"""
