"""The state history (CaseStateChange) is casework's now (casework 0014): only Django's record
of the model leaves triage; its table stays as it is."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('triage', '0001_initial'),
        ('casework', '0014_case_states_and_state_history'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='CaseStateChange')],
            database_operations=[],
        ),
    ]
