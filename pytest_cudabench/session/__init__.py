"""What the pytest layer (plugin/) runs, in the domain's terms: the option table and the run's settings
(options.py), the task families, item selection and the items' records (families.py), where xdist workers run
(workers.py), the progress lines (progress.py). Knows nothing of pytest: the plugin calls it, as pytest-cpp's
plugin calls its facades."""
