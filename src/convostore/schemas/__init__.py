"""API schemas, kept apart from the stored documents so a request can never set a
server-owned field: `...Create` and `...Update` bodies in, `...Public` and pages out."""
