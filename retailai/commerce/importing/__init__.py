"""CSV imports: framework (chunked reading, checks, rejects), readers (file layouts), loaders (database writes),
runner (the shared driver) and services (order and product imports). See docs/imports.md.
"""
