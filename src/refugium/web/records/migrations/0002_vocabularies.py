"""Loads the shipped vocabularies (refugium.records.vocabularies) into a new database.

Later versions of the files reach an existing database through ``refugium vocab sync``,
which the upgrade notes in docs/operations.md ask for; ``sync`` never deletes a term.
"""

from django.db import migrations


def load(apps, schema_editor):
    from refugium.records.vocabularies import load_all
    from refugium.web.records.vocab import sync

    sync(load_all(), apps.get_model("records", "Vocabulary"), apps.get_model("records", "Term"))


class Migration(migrations.Migration):
    dependencies = [("records", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
