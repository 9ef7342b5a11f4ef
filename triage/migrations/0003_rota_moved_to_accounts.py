"""The on-call rota (OnCallShift) is accounts' now (accounts 0012): only Django's record of the
model leaves triage; its table stays as it is."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('triage', '0002_state_history_moved_to_casework'),
        ('accounts', '0012_teams_and_rota_from_casework_and_triage'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='OnCallShift')],
            database_operations=[],
        ),
    ]
