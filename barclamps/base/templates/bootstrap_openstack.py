# Managed by bootstrap (barclamp base): what the tool's own OpenStack helpers on a node share.
#   admin_session()  a keystone session from the admin credentials in the environment (. /root/admin-openrc),
#                    whose token is reused by the next helper while it is valid (cached 0600 under /run:
#                    a no-op apply asks half a dozen helpers, each would otherwise log in again)
#   finding(...)     one line a cloud health check reports: the node it is about, the problem, the evidence
#   run(main)        runs a helper: an API that cannot be reached is one line on stderr, not a traceback
import hashlib
import json
import os
import sys
import tempfile
import time

from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import session
from keystoneauth1.identity import v3

TOKEN_CACHE_DIR = '/run/bootstrap'
# a cached token is used only while it has this much life left
TOKEN_MARGIN_SECONDS = 300


def _cache_file(env):
    # one cache per login: another user, project, endpoint or password is another file
    key = '\0'.join(env.get(k, '') for k in ('OS_AUTH_URL', 'OS_USERNAME', 'OS_PASSWORD', 'OS_PROJECT_NAME'))
    return os.path.join(TOKEN_CACHE_DIR, 'token-' + hashlib.sha256(key.encode()).hexdigest()[:16] + '.json')


def admin_session(timeout=30):
    env = os.environ
    auth = v3.Password(auth_url=env['OS_AUTH_URL'], username=env['OS_USERNAME'], password=env['OS_PASSWORD'],
                       project_name=env['OS_PROJECT_NAME'], user_domain_name=env.get('OS_USER_DOMAIN_NAME', 'Default'),
                       project_domain_name=env.get('OS_PROJECT_DOMAIN_NAME', 'Default'))
    cache = _cache_file(env)
    try:
        with open(cache) as f:
            state = f.read()
        auth.set_auth_state(state)
        expires = json.loads(state)['body']['token']['expires_at']
        if time.mktime(time.strptime(expires[:19], '%Y-%m-%dT%H:%M:%S')) - time.mktime(time.gmtime()) < TOKEN_MARGIN_SECONDS:
            auth.invalidate()
    except (OSError, ValueError, KeyError, TypeError):
        pass
    api = session.Session(auth=auth, timeout=timeout)
    api.get_token()
    _save_state(cache, auth.get_auth_state())
    return api


def _save_state(cache, state):
    if not state:
        return
    os.makedirs(TOKEN_CACHE_DIR, mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=TOKEN_CACHE_DIR, prefix='.token-')
    try:
        with os.fdopen(fd, 'w') as f:
            f.write(state)
        os.replace(tmp, cache)
    except OSError:
        os.unlink(tmp)


class Findings:
    """What a health check found, printed as it is found; the exit code says whether there was any."""

    def __init__(self):
        self.count = 0

    def add(self, node, problem, evidence=None):
        self.count += 1
        print(json.dumps({'node': node, 'problem': problem, 'evidence': evidence or {}}, sort_keys=True), flush=True)

    def exit(self):
        sys.exit(1 if self.count else 0)


def host_matches(host, node):
    """nova and neutron name a host by its host name, which may be the node's name or its FQDN."""
    return host == node or (host or '').split('.')[0] == node


def names(argument):
    return [n for n in (argument or '').split(',') if n]


def run(main):
    try:
        main()
    except ks_exceptions.Unauthorized as e:
        sys.exit(f'keystone refused the admin credentials (401): {e}')
    except ks_exceptions.ConnectFailure as e:
        sys.exit(f'cannot reach the API: {e}')
    except ks_exceptions.EndpointNotFound as e:
        sys.exit(f'no such endpoint in the catalog: {e}')
    except ks_exceptions.HttpError as e:
        sys.exit(f'the API answered {e.http_status}: {e}')
