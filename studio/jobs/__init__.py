"""Jobs: sending requests to FoxAPI, following them, and recording what comes back."""
