"""Around a run: what it shows while it works (``display``, ``plainlog``, the time ``estimate``), ``suite status``
(``status``) and times measured on a device imported into it (``importer``)."""
