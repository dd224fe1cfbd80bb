"""The crowdscribe shell: settings, storage, CLI and web app around the domain packages."""
