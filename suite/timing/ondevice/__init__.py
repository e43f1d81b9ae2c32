"""Files shipped verbatim to a device by ``suite bundle``: they import nothing but the standard library and torch
(and, in the bundle, each other and the bundled ``zoo``), and run on Python >= 3.9 with torch >= 1.11."""
