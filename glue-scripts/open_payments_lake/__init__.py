"""Open Payments Lake: the Glue jobs' transforms (raw -> cleaned -> curated), shared by the entry scripts."""
