"""Running the job: ``build`` (the Results rendered by output tasks), the forked workers that
run those tasks, and ``watch`` (rebuild on change)."""
