// Placeholder: the simulator lives here.
