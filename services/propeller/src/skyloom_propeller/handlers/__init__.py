"""Node handlers, one module per node kind, behind ``NodeHandler`` (see ``base``)."""
