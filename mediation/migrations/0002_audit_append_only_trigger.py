"""On PostgreSQL, refuse UPDATE and DELETE of audit entries at the database itself.

SQLite has no such trigger here; there the hash chain still detects any edit. TRUNCATE
stays possible for the database owner (test databases are flushed with it).
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION mediation_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit entries are append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS mediation_auditentry_append_only ON mediation_auditentry;
CREATE TRIGGER mediation_auditentry_append_only
    BEFORE UPDATE OR DELETE ON mediation_auditentry
    FOR EACH ROW EXECUTE FUNCTION mediation_audit_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS mediation_auditentry_append_only ON mediation_auditentry;
DROP FUNCTION IF EXISTS mediation_audit_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)  # no placeholders: "%" is PL/pgSQL


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("mediation", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
