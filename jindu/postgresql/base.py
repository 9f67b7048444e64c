"""Django's PostgreSQL backend with the server binding the parameters (settings.DATABASES).

With server-side binding a statement carries at most 65,535 parameters (the protocol's
limit); Django 5.2 knows that limit for Oracle and SQLite but not for PostgreSQL, so a
``bulk_create``, ``in_bulk`` or cascading delete of tens of thousands of rows would fail
(``number of parameters must be between 0 and 65535``). This backend tells Django the limit,
and Django cuts those statements into batches below it, as it does on SQLite."""

from django.db.backends.postgresql import base, features, operations

MAX_QUERY_PARAMS = 2**16 - 1


class DatabaseFeatures(features.DatabaseFeatures):
    @property
    def max_query_params(self):
        return MAX_QUERY_PARAMS if self.connection.settings_dict["OPTIONS"].get("server_side_binding") else None


class DatabaseOperations(operations.DatabaseOperations):
    def bulk_batch_size(self, fields, objs):
        limit = self.connection.features.max_query_params
        if limit is None:
            return super().bulk_batch_size(fields, objs)
        # A field of a composite key counts once per column (as SQLite's operations count it).
        columns = sum(len(getattr(field, "fields", ())) or 1 for field in fields)
        return max(limit // columns, 1) if columns else len(objs)


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
    ops_class = DatabaseOperations

