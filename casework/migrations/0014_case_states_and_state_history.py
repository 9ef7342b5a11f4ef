"""Every case state on Case.Status (the stored values do not change), and the state history
(CaseStateChange) moved here from triage with its table: only Django's record of the models
changes, no table is created, renamed or rewritten."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('casework', '0013_attachment_originals'),
        ('triage', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='case',
            name='status',
            field=models.CharField(choices=[('new', 'New'), ('triaged', 'Triaged'), ('vetting', 'Vetting'), ('verified', 'Verified'), ('closed', 'Closed')], default='new', max_length=20),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='CaseStateChange',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('from_state', models.CharField(max_length=20)),
                        ('to_state', models.CharField(max_length=20)),
                        ('reason', models.CharField(blank=True, default='', max_length=30)),
                        ('at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='state_changes', to='casework.case')),
                    ],
                    options={
                        'db_table': 'triage_casestatechange',
                        'ordering': ['at', 'pk'],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
