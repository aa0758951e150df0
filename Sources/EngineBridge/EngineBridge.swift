// Placeholder: the engine bridge lives here.
