"""``storewatch demo``: the whole store on one machine, in one process (the cameras' runner and the dashboard)."""
