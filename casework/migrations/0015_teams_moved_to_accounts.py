"""Teams and team memberships are accounts' models now (accounts 0012, same tables): the case's
team and the team columns of CaseHeldViaTeam and PendingWrap point at accounts.Team. Only
Django's record changes; the columns and their foreign keys stay as they are."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0012_teams_and_rota_from_casework_and_triage'),
        ('casework', '0014_case_states_and_state_history'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='case',
                    name='team',
                    field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='cases', to='accounts.team'),
                ),
                migrations.AlterField(
                    model_name='pendingwrap',
                    name='team',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='pending_wraps', to='accounts.team'),
                ),
                migrations.AlterField(
                    model_name='caseheldviateam',
                    name='team',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.team'),
                ),
                migrations.RemoveField(
                    model_name='team',
                    name='members',
                ),
                migrations.DeleteModel(
                    name='TeamMembership',
                ),
                migrations.DeleteModel(
                    name='Team',
                ),
            ],
            database_operations=[],
        ),
    ]
