"""Hand-written fakes of the services prbot talks to."""
