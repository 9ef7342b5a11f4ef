"""Teams, team memberships (from casework) and the on-call rota (from triage) are accounts'
models now. Only Django's record of the models moves: each keeps its table (db_table), so no
table is created, renamed or rewritten, and certified rows keep their certificates (the
certified table names "team" and "team.member" do not change)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0011_certify_existing_signup_links'),
        ('casework', '0014_case_states_and_state_history'),
        ('triage', '0002_state_history_moved_to_casework'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Team',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=80, unique=True)),
                        ('is_on_call', models.BooleanField(default=False)),
                        ('certificate', models.BinaryField(blank=True, max_length=32, null=True)),
                    ],
                    options={
                        'db_table': 'casework_team',
                    },
                ),
                migrations.AlterField(
                    model_name='signuplink',
                    name='team',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to='accounts.team'),
                ),
                migrations.CreateModel(
                    name='TeamMembership',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('added_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('certificate', models.BinaryField(blank=True, max_length=32, null=True)),
                        ('member', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to=settings.AUTH_USER_MODEL)),
                        ('team', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to='accounts.team')),
                    ],
                    options={
                        'db_table': 'casework_teammembership',
                    },
                ),
                migrations.AddField(
                    model_name='team',
                    name='members',
                    field=models.ManyToManyField(related_name='teams', through='accounts.TeamMembership', to=settings.AUTH_USER_MODEL),
                ),
                migrations.CreateModel(
                    name='OnCallShift',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('starts_at', models.DateTimeField()),
                        ('ends_at', models.DateTimeField()),
                        ('member', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'triage_oncallshift',
                        'ordering': ['starts_at', 'pk'],
                        'indexes': [models.Index(fields=['starts_at', 'ends_at'], name='triage_onca_starts__cae9ad_idx')],
                        'constraints': [models.CheckConstraint(condition=models.Q(('ends_at__gt', models.F('starts_at'))), name='shift_ends_after_start')],
                    },
                ),
                migrations.AddConstraint(
                    model_name='teammembership',
                    constraint=models.UniqueConstraint(fields=('team', 'member'), name='unique_team_member'),
                ),
            ],
            database_operations=[],
        ),
    ]
