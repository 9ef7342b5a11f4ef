"""The append-only, hash-chained audit log (DESIGN.md invariant 7, threat T12).

Rows are written only by audit.services.audit_record and checked by audit.chain; see the
"Audit log" section of docs/crypto.md for what an entry holds and how the hash is formed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.details import Detail, readable_details


class Action(models.TextChoices):
    """Every kind of audited action, in one place."""

    LOGIN = "login", _("Logged in")
    LOGIN_FAILED = "login_failed", _("Failed login")
    KEY_UNLOCK = "key_unlock", _("Unlocked private key")
    LOGOUT = "logout", _("Logged out")
    CASE_VIEW = "case_view", _("Viewed case")
    CASE_REPLY = "case_reply", _("Replied to case")
    CASE_MARK_READ = "case_mark_read", _("Marked case read")
    ATTACHMENT_DOWNLOAD = "attachment_download", _("Downloaded attachment")
    ATTACHMENT_ORIGINAL_DOWNLOAD = (
        "attachment_original_download",
        _("Downloaded the original of a file, metadata and all"),
    )
    SETUP_LINK_CREATE = "setup_link_create", _("Created setup link")
    INVITE_CREATE = "invite_create", _("Created invitation")
    STAFF_ENROL = "staff_enrol", _("Enrolled")
    RECOVERY_KEY_CREATE = "recovery_key_create", _("Created recovery key")
    AUDIT_VIEW = "audit_view", _("Viewed audit log")
    CASE_MEMBER_ADD = "case_member_add", _("Gave someone a case key")
    CASE_MEMBER_REMOVE = "case_member_remove", _("Removed someone from a case and rotated its key")
    CASES_LIST_ALL = "cases_list_all", _("Listed all cases")
    STAFF_DISABLE = "staff_disable", _("Disabled a staff account")
    ACCOUNT_LOCKED = "account_locked", _("Account locked after failed logins")
    ACCOUNT_UNLOCK = "account_unlock", _("Unlocked an account")
    SIGN_OUT_EVERYWHERE = "sign_out_everywhere", _("Signed out everywhere")
    PASSWORD_CHANGE = "password_change", _("Changed password")
    RECOVERY_CODES_CREATE = "recovery_codes_create", _("Made new 2FA recovery codes")
    RECOVERY_CODE_USE = "recovery_code_use", _("Used a 2FA recovery code")
    MESSAGE_RELEASE = "message_release", _("Released a reply held under duress")
    CASE_DURESS_CLEAR = "case_duress_clear", _("Cleared a case's duress state")
    CODENAME_BURN = "codename_burn", _("Burned a codename and issued a new one")
    CASE_FLAGS_SET = "case_flags_set", _("Changed a case's hostile-family warnings")
    CASE_TRANSITION = "case_transition", _("Changed a case's state")
    ROTA_CHANGE = "rota_change", _("Changed the on-call rota")
    TEAM_CREATE = "team_create", _("Created a team")
    TEAM_MEMBER_ADD = "team_member_add", _("Added someone to a team")
    TEAM_MEMBER_REMOVE = "team_member_remove", _("Removed someone from a team")
    CASE_TEAM_ASSIGN = "case_team_assign", _("Moved a case to a team")
    PENDING_WRAPS_COMPLETE = "pending_wraps_complete", _("Handed on case keys owed to team members")
    CASES_LIST_SCOPE = "cases_list_scope", _("Listed the cases in their scope")
    NOTE_CREATE = "note_create", _("Wrote a case note")
    NOTE_EDIT = "note_edit", _("Changed a case note")
    TASK_CREATE = "task_create", _("Added a task to a case")
    TASK_EDIT = "task_edit", _("Changed a task")
    TASK_DONE = "task_done", _("Marked a task done or open")
    TASKS_VIEW = "tasks_view", _("Viewed own tasks on a case")
    CANNED_CREATE = "canned_create", _("Added a canned reply")
    CANNED_EDIT = "canned_edit", _("Changed a canned reply")
    CANNED_DELETE = "canned_delete", _("Deleted a canned reply")
    SIGNING_KEY_CREATE = "signing_key_create", _("Created a signing key for replies")
    DECOY_REPLY = "decoy_reply", _("Replied in the cover conversation")
    VETTING_CHECK_TICK = "vetting_check_tick", _("Ticked a vetting checklist item")
    VETTING_SIGN_OFF = "vetting_sign_off", _("Signed off a case's vetting")
    VETTING_SIGN_OFF_WITHDRAW = "vetting_sign_off_withdraw", _("Withdrew a vetting sign-off")
    SENSITIVE_ITEMS_VIEW = "sensitive_items_view", _("Viewed the sensitive items")
    SENSITIVE_ITEM_CREATE = "sensitive_item_create", _("Added a sensitive item")
    SENSITIVE_ITEM_DELETE = "sensitive_item_delete", _("Deleted a sensitive item")
    SENSITIVE_ITEM_SHARE = "sensitive_item_share", _("Shared sensitive items with staff")
    SENSITIVE_ITEM_INSERT = "sensitive_item_insert", _("Put a sensitive item into a reply")
    SENSITIVE_REPLY_REFUSED = "sensitive_reply_refused", _("A reply with a sensitive item was refused")
    SENSITIVE_REPLY_CONFIRMED = "sensitive_reply_confirmed", _("Confirmed sending a sensitive item")
    RED_FLAGS_VIEW = "red_flags_view", _("Viewed the red flags")
    RED_FLAG_CREATE = "red_flag_create", _("Added a red flag")
    RED_FLAG_DELETE = "red_flag_delete", _("Deleted a red flag")
    RED_FLAG_MATCH = "red_flag_match", _("A case matched a red flag")
    EVAC_PLAN_CREATE = "evac_plan_create", _("Started an evacuation plan")
    EVAC_LEG_CREATE = "evac_leg_create", _("Added a leg to an evacuation plan")
    EVAC_LEG_EDIT = "evac_leg_edit", _("Changed a leg of an evacuation plan")
    EVAC_LEG_PROGRESS = "evac_leg_progress", _("Updated a leg's progress or documents")
    EVAC_TEMPLATE_APPLY = "evac_template_apply", _("Added legs from a plan template")
    EVAC_TEMPLATE_CREATE = "evac_template_create", _("Added a plan template")
    EVAC_TEMPLATE_EDIT = "evac_template_edit", _("Changed a plan template")
    EVAC_DESTINATION_CREATE = "evac_destination_create", _("Added a destination")
    EVAC_DESTINATION_EDIT = "evac_destination_edit", _("Changed a destination")
    FUNDS_ENTRY_CREATE = "funds_entry_create", _("Recorded money paid out")
    FUNDS_ENTRY_EDIT = "funds_entry_edit", _("Changed an entry of money paid out")
    FUNDS_ENTRY_APPROVE = "funds_entry_approve", _("Approved a payment")
    FUNDS_ENTRY_REJECT = "funds_entry_reject", _("Rejected a payment")
    FUNDS_BUDGET_SET = "funds_budget_set", _("Set a case's budget")
    FUNDS_REPORT_VIEW = "funds_report_view", _("Viewed the report of money paid out")
    FUNDS_EXPORT = "funds_export", _("Exported money paid out as CSV")
    CHECKIN_SCHEDULE_SET = "checkin_schedule_set", _("Changed a case's check-in schedule")
    CHECKIN_ACKNOWLEDGE = "checkin_acknowledge", _("Acknowledged a missed check-in")
    FATE_SET = "fate_set", _("Set a person's fate status")
    SAFE_HOUSE_CREATE = "safe_house_create", _("Added a safe house")
    SAFE_HOUSE_ADDRESS_VIEW = "safe_house_address_view", _("Viewed a safe-house address")
    SAFE_HOUSE_KEYS_ROTATE = "safe_house_keys_rotate", _("Made new keys for a safe-house address")
    PLACEMENT_CREATE = "placement_create", _("Placed a person in a safe house")
    PLACEMENT_END = "placement_end", _("Ended a stay in a safe house")
    SAFE_HOUSE_SHARE = "safe_house_share", _("Gave someone a safe-house address")
    DASHBOARD_VIEW = "dashboard_view", _("Viewed the coordinator dashboard")
    HANDOFF_KEYS_CREATE = "handoff_keys_create", _("Created the hand-off keys")
    HANDOFF_KEYS_SHARE = "handoff_keys_share", _("Gave coordinators the hand-off keys")
    HANDOFF_PARTNER_ADD = "handoff_partner_add", _("Added a partner organisation")
    HANDOFF_EXPORT = "handoff_export", _("Handed a case to a partner")
    HANDOFF_IMPORT = "handoff_import", _("Opened a case handed over by a partner")
    HANDOFF_IMPORT_REFUSED = "handoff_import_refused", _("Refused a hand-off packet")
    SAFE_HOUSE_EDIT = "safe_house_edit", _("Changed a safe house")
    SAFE_HOUSE_CLOSE = "safe_house_close", _("Closed a safe house")
    PLACEMENT_CONFIRM = "placement_confirm", _("Confirmed a stay in a safe house")
    SAFE_HOUSE_CASE_KEYS_REVOKE = "safe_house_case_keys_revoke", _("Took a safe-house address from a case's key")
    AUDIT_HEAD_CHECK = "audit_head_check", _("Checked a point of the audit log written down earlier")
    AUDIT_HEAD_RESEAL = "audit_head_reseal", _("Resealed the end of the audit log after it failed its check")
    NOTIFY_PREFERENCE_CHANGE = "notify_preference_change", _("Changed how they are notified")
    NOTIFY_WEBHOOK_REFUSED = "notify_webhook_refused", _("A webhook address was refused")
    CASE_RECERTIFY = "case_recertify", _("Certified a case row again after review")
    RETENTION_POLICY_SET = "retention_policy_set", _("Changed how long closed cases are kept")
    CASE_HOLD_SET = "case_hold_set", _("Put a case on hold (never shredded)")
    CASE_HOLD_LIFT = "case_hold_lift", _("Lifted the hold on a case")
    CASE_SHRED = "case_shred", _("Shredded a case")
    CASE_DELETION_ASKED = "case_deletion_asked", _("The person asked to delete what they wrote")
    RECOVERY_SHARES_CREATE = "recovery_shares_create", _("Split the recovery key among trustees")
    RECOVERY_CEREMONY_START = "recovery_ceremony_start", _("Started a recovery ceremony")
    RECOVERY_SHARE_ENTER = "recovery_share_enter", _("Entered a recovery share")
    RECOVERY_CEREMONY_CANCEL = "recovery_ceremony_cancel", _("Cancelled a recovery ceremony")
    RECOVERY_CEREMONY_EXPIRE = "recovery_ceremony_expire", _("A recovery ceremony expired")
    RECOVERY_CEREMONY_REFUSED = "recovery_ceremony_refused", _("A recovery ceremony's shares were refused")
    RECOVERY_CASE_KEY_GIVE = "recovery_case_key_give", _("Gave a case's key with the recovery key")
    RECOVERY_KEY_ROTATE = "recovery_key_rotate", _("Made a new recovery key and new shares")
    HANDOFF_KEYS_ROTATE = "handoff_keys_rotate", _("Made new hand-off keys")
    BACKUP_WRITTEN = "backup_written", _("Wrote an encrypted backup")
    BACKUP_FAILED = "backup_failed", _("A scheduled backup failed")
    BACKUP_RESTORED = "backup_restored", _("Restored a backup")
    EVIDENCE_CONSENT = "evidence_consent", _("Recorded the person's consent to use evidence")
    EVIDENCE_CONSENT_REVOKE = "evidence_consent_revoke", _("Recorded that the person withdrew consent")
    EVIDENCE_PROMOTE = "evidence_promote", _("Put an item into the evidence locker")
    EVIDENCE_VIEW = "evidence_view", _("Opened an item of the evidence locker")
    EVIDENCE_EXPORT = "evidence_export", _("Exported evidence for a recipient")


class AuditEntry(models.Model):
    """One audited action. Never updated or deleted by the application."""

    sequence = models.PositiveBigIntegerField(unique=True)
    at = models.DateTimeField()
    # PROTECT: the actor's id is part of the hash, so the reference must never change.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=32, choices=Action.choices)
    # NULL, not "", for "no case": the hash encodes absence apart from any string.
    case_public_id = models.CharField(max_length=12, null=True, blank=True)  # noqa: DJ001
    # Identifiers and codes only: never case content, names, regions or addresses.
    details = models.JSONField(default=dict)
    previous_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["action", "-sequence"], name="audit_action_seq"),
            models.Index(fields=["actor", "-sequence"], name="audit_actor_seq"),
            models.Index(fields=["case_public_id", "-sequence"], name="audit_case_seq"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action}"

    def readable_details(self) -> list[Detail]:
        return readable_details(self.action, self.details)


class AuditHead(models.Model):
    """The one row naming the chain's last entry. Appends lock it (SELECT ... FOR UPDATE on
    PostgreSQL), so two writers cannot both extend the same entry; the verifier compares it
    with the last entry, so deleting entries from the end is detected too. ``mac`` is keyed
    with the pepper (audit.chain.head_mac), so a database writer cannot make the head name an
    earlier entry after cutting the ones after it; "" once an append found the head not
    holding, so the alarm stays until an operator reseals it (manage.py reseal_audit_head)."""

    slot = models.PositiveSmallIntegerField(default=1, unique=True, editable=False)
    sequence = models.PositiveBigIntegerField(default=0)
    entry_hash = models.CharField(max_length=64)
    mac = models.CharField(max_length=64, blank=True, default="")
