"""The shell people use: the ``crowdscribe`` command and the web app, on top of the flows and
the domain packages."""
