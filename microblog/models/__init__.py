"""ORM models, one module per domain, every public name re-exported: ``from microblog.models import X``.

Models in different modules name each other by class name in ``relationship()`` and import each other
for annotations only under ``if TYPE_CHECKING:``; importing this package registers every model.
"""

from microblog.models.edits import PostEdit
from microblog.models.email_change import EmailChange
from microblog.models.federation import (
    DOMAIN_MAX,
    URI_MAX,
    ActivityState,
    Delivery,
    DeliveryStatus,
    FollowRequest,
    InboxActivity,
    Instance,
    SiteKey,
)
from microblog.models.follows import followers
from microblog.models.idempotency import IDEMPOTENCY_DIGEST_LENGTH, StatusIdempotency
from microblog.models.imports import IMPORT_VALUE_MAX, ImportRow, ImportRowState
from microblog.models.limits import EMAIL_MAX, HANDLE_MAX, ID_MAX, REASON_MAX, USERNAME_MAX
from microblog.models.markers import MARKER_ID_MAX, MARKER_TIMELINES, Marker
from microblog.models.media import (
    MEDIA_DESCRIPTION_MAX,
    MEDIA_KEY_MAX,
    MEDIA_PER_POST_CEILING,
    FileDeletion,
    Media,
    MediaStatus,
)
from microblog.models.messaging import (
    MESSAGE_BODY_CEILING,
    NOTIFICATION_KINDS,
    NOTIFY_MENTION,
    NOTIFY_MESSAGE,
    NOTIFY_NEW_FOLLOWER,
    NOTIFY_REPORT,
    Message,
    Notification,
    NotificationKind,
)
from microblog.models.moderation import (
    REPORT_DISMISSED,
    REPORT_OPEN,
    REPORT_POST,
    REPORT_RESOLVED,
    REPORT_STATUSES,
    REPORT_USER,
    AuditLogEntry,
    Report,
    ReportKind,
    ReportStatus,
)
from microblog.models.oauth import OAuthAccessToken, OAuthApplication, OAuthAuthorizationCode
from microblog.models.outbox import (
    OUTBOX_FAILED,
    OUTBOX_PENDING,
    OUTBOX_SENDING,
    OUTBOX_SENT,
    OUTBOX_STATUSES,
    OutboxMessage,
    OutboxStatus,
)
from microblog.models.passkeys import PASSKEY_NAME_MAX, WebAuthnCredential
from microblog.models.posts import POST_BODY_CEILING, SUMMARY_MAX, Post, ViewerRef, Visibility
from microblog.models.reactions import Announce, Bookmark, Like
from microblog.models.roles import (
    ROLE_ADMIN,
    ROLE_MODERATOR,
    ROLE_PERMISSIONS,
    ROLE_RANK,
    ROLE_USER,
    ROLES,
    Permission,
    Role,
)
from microblog.models.sessions import IP_MAX, SESSION_LABEL_MAX, USER_AGENT_MAX, UserSession
from microblog.models.site_settings import SiteSetting
from microblog.models.tags import TAG_MAX, Mention, PostTag, Tag
from microblog.models.tasks import TASK_DONE, TASK_FAILED, TASK_QUEUED, TASK_RUNNING, Task, TaskStatus
from microblog.models.tokens import Token
from microblog.models.two_factor import RecoveryCode
from microblog.models.users import (
    ABOUT_ME_MAX,
    THEMES,
    Block,
    Mute,
    ReservedUsername,
    User,
    UserActivity,
    user_by_username_select,
)

__all__ = [
    # limits
    "EMAIL_MAX", "HANDLE_MAX", "ID_MAX", "REASON_MAX", "USERNAME_MAX",
    # federation
    "ActivityState", "Delivery", "DeliveryStatus", "DOMAIN_MAX", "FollowRequest", "InboxActivity", "Instance",
    "SiteKey", "URI_MAX",
    # roles
    "Permission", "Role", "ROLE_ADMIN", "ROLE_MODERATOR", "ROLE_PERMISSIONS", "ROLE_RANK", "ROLE_USER",
    "ROLES",
    # users
    "ABOUT_ME_MAX", "THEMES", "Block", "Mute", "ReservedUsername", "User", "UserActivity", "followers",
    "user_by_username_select", "EmailChange",
    # posts
    "POST_BODY_CEILING", "SUMMARY_MAX", "Post", "PostEdit", "ViewerRef", "Visibility",
    # conversations
    "Announce", "Bookmark", "Like", "Mention", "PostTag", "TAG_MAX", "Tag",
    # markers
    "MARKER_ID_MAX", "MARKER_TIMELINES", "Marker",
    # media
    "FileDeletion", "MEDIA_DESCRIPTION_MAX", "MEDIA_KEY_MAX", "MEDIA_PER_POST_CEILING", "Media",
    "MediaStatus",
    # messaging
    "MESSAGE_BODY_CEILING", "Message", "Notification", "NotificationKind", "NOTIFICATION_KINDS",
    "NOTIFY_MENTION", "NOTIFY_MESSAGE", "NOTIFY_NEW_FOLLOWER", "NOTIFY_REPORT",
    # outbox
    "OUTBOX_FAILED", "OUTBOX_PENDING", "OUTBOX_SENDING", "OUTBOX_SENT", "OUTBOX_STATUSES", "OutboxMessage",
    "OutboxStatus",
    # tasks and tokens
    "TASK_DONE", "TASK_FAILED", "TASK_QUEUED", "TASK_RUNNING", "Task", "TaskStatus", "Token",
    # imports
    "IMPORT_VALUE_MAX", "ImportRow", "ImportRowState",
    # OAuth 2 (Mastodon apps)
    "OAuthAccessToken", "OAuthApplication", "OAuthAuthorizationCode",
    # Idempotency-Key of POST /api/v1/statuses
    "IDEMPOTENCY_DIGEST_LENGTH", "StatusIdempotency",
    # two-factor sign-in
    "RecoveryCode",
    # site settings
    "SiteSetting",
    # signed-in sessions
    "IP_MAX", "SESSION_LABEL_MAX", "USER_AGENT_MAX", "UserSession",
    # passkeys
    "PASSKEY_NAME_MAX", "WebAuthnCredential",
    # moderation
    "AuditLogEntry", "Report", "ReportKind", "ReportStatus", "REPORT_DISMISSED", "REPORT_OPEN", "REPORT_POST",
    "REPORT_RESOLVED", "REPORT_STATUSES", "REPORT_USER",
]
