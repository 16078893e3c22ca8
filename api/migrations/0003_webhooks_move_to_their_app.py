"""The webhook models now belong to the webhooks app (``webhooks.0001_initial``).

State only: their tables keep their names and rows. The content types (and with them any
permissions granted on the models) follow the models to their new app label.
"""

from django.db import migrations


def relabel_content_types(apps, schema_editor, *, to: str, frm: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in ("webhookendpoint", "webhookdelivery", "webhookattempt"):
        if ContentType.objects.filter(app_label=to, model=model).exists():
            continue
        ContentType.objects.filter(app_label=frm, model=model).update(app_label=to)


def forwards(apps, schema_editor):
    relabel_content_types(apps, schema_editor, to="webhooks", frm="api")


def backwards(apps, schema_editor):
    relabel_content_types(apps, schema_editor, to="api", frm="webhooks")


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0002_webhooks"),
        ("webhooks", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="WebhookAttempt"),
                migrations.DeleteModel(name="WebhookDelivery"),
                migrations.DeleteModel(name="WebhookEndpoint"),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards, elidable=True),
    ]
