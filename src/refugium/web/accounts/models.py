"""Organisation, desks, desk-key generations and their wraps, and researchers' accounts.

What each table may hold in plaintext is deliberate (DESIGN §2): public keys (age
recipients), names of desks and accounts, and counters. Every secret is stored wrapped: a
user's identity under an Argon2id-derived key, desk keys as age files to each member and to
the recovery recipient, TOTP seeds as age files to their user. Nothing here lets a reader of
the database decrypt anything without a passphrase or the paper key.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Organisation(models.Model):
    """The one organisation this data folder belongs to."""

    name = models.CharField(max_length=200)
    recovery_recipient = models.CharField(max_length=100)
    # Salt for receipt derivation: makes precomputed receipt tables useless across
    # organisations. Not secret by itself.
    receipt_salt = models.BinaryField(max_length=32)
    log_verify_key_pem = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Desk(models.Model):
    """A compartment with its own keys: intake, documentation, casework, …"""

    name = models.SlugField(max_length=50, unique=True)
    title = models.CharField(max_length=200)
    # An offline desk's identity never reaches the server, not even wrapped (DESIGN §2).
    offline = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def current_generation(self) -> DeskKeyGeneration:
        return self.generations.order_by("-number").first()  # type: ignore[no-any-return]


class DeskKeyGeneration(models.Model):
    """One desk key. Revoking a member starts a new generation; new data uses the newest."""

    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="generations")
    number = models.PositiveIntegerField()
    recipient = models.CharField(max_length=100)
    key_id = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["desk", "number"], name="unique_desk_generation"),
        ]
        ordering = ["desk", "number"]

    def __str__(self) -> str:
        return f"{self.desk.name} key {self.number}"


class DeskKeyWrap(models.Model):
    """A desk key as an age file to one member, or (``user`` null) to the recovery recipient."""

    generation = models.ForeignKey(
        DeskKeyGeneration, on_delete=models.CASCADE, related_name="wraps"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE
    )
    blob = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["generation", "user"], name="unique_wrap_per_member"
            ),
            models.UniqueConstraint(
                fields=["generation"],
                condition=models.Q(user__isnull=True),
                name="one_recovery_wrap_per_generation",
            ),
        ]

    def __str__(self) -> str:
        return f"wrap of {self.generation} to {self.user or 'recovery'}"


class Membership(models.Model):
    """A user's place on a desk. ``active`` once a member holding the keys granted them."""

    desk = models.ForeignKey(Desk, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    active = models.BooleanField(default=False)
    since = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["desk", "user"], name="unique_membership"),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.desk}"


class Account(models.Model):
    """A researcher's keys and login state, beside Django's ``User``.

    Django's password field is unusable on purpose: the passphrase is checked by unwrapping
    the identity (one Argon2id run per login, not two).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account"
    )
    recipient = models.CharField(max_length=100)
    wrapped_identity = models.BinaryField()
    totp_sealed = models.BinaryField()
    totp_last_step = models.BigIntegerField(default=0)
    failed_logins = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    # Bumped when the user is disabled or loses a desk: every open session of theirs ends at
    # its next request, so the keys it holds stop being usable (ASVS 8.3.2).
    session_epoch = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"account of {self.user}"
