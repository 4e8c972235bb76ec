#!/usr/bin/python
# Copyright: scs-deploy contributors
# Apache License 2.0 (see LICENSE)
"""Ansible module: GET many URLs until each answers with an accepted status, in one call."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: scs_http_probe
short_description: Fail unless every URL answers a GET with an accepted status within the retries
description:
  - One module execution for all URLs, where a looped M(ansible.builtin.uri) costs one per URL.
  - Redirects are not followed; a redirect status counts only when accepted.
  - Never changes anything.
options:
  urls:
    description: Label to URL.
    type: dict
    required: true
  status_code:
    description: Accepted statuses.
    type: list
    elements: int
    default: [200]
  ca_path:
    description: CA bundle that verifies HTTPS.
    type: path
  retries:
    description: Further rounds for the URLs that did not answer as accepted yet.
    type: int
    default: 0
  delay:
    description: Seconds between rounds.
    type: int
    default: 5
  timeout:
    description: Seconds one request may take.
    type: int
    default: 10
"""

EXAMPLES = r"""
- name: Check that every API endpoint answers through HAProxy
  scs_http_probe:
    urls: {keystone public: "https://10.0.0.10:5000/v3"}
    status_code: [200, 300, 401]
    retries: 12
"""

RETURN = r"""
status:
  description: Label to the last status (0 when no answer).
  type: dict
  returned: always
"""

import http.client
import ssl
import time
import urllib.error
import urllib.request

from ansible.module_utils.basic import AnsibleModule


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _get(opener, url, timeout):
    """(status, problem): the status of one GET, 0 and why when there was no answer."""
    try:
        with opener.open(urllib.request.Request(url, method="GET"), timeout=timeout) as answer:
            return answer.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except (urllib.error.URLError, OSError) as exc:
        return 0, str(getattr(exc, "reason", exc))
    except http.client.HTTPException as exc:
        # Something answered, but not HTTP (a TLS-only port asked over http://).
        return 0, "%s: %s" % (type(exc).__name__, exc)


def main():
    module = AnsibleModule(
        argument_spec={
            "urls": {"type": "dict", "required": True},
            "status_code": {"type": "list", "elements": "int", "default": [200]},
            "ca_path": {"type": "path"},
            "retries": {"type": "int", "default": 0},
            "delay": {"type": "int", "default": 5},
            "timeout": {"type": "int", "default": 10},
        },
        supports_check_mode=True,
    )
    context = ssl.create_default_context(cafile=module.params["ca_path"])
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=context), _NoRedirect()
    )
    accepted = set(module.params["status_code"])
    pending = dict(module.params["urls"])
    status = {}
    problems = {}
    for round_number in range(module.params["retries"] + 1):
        if round_number:
            time.sleep(module.params["delay"])
        for label, url in list(pending.items()):
            status[label], problems[label] = _get(opener, url, module.params["timeout"])
            if status[label] in accepted:
                del pending[label]
        if not pending:
            module.exit_json(changed=False, status=status)
    failed = [
        "%s (%s): %s" % (label, url, problems[label] or "HTTP %d" % status[label])
        for label, url in sorted(pending.items())
    ]
    module.fail_json(
        msg="no accepted answer (%s) after %d tries: %s"
        % (", ".join(map(str, sorted(accepted))), module.params["retries"] + 1, "; ".join(failed)),
        status=status,
    )


if __name__ == "__main__":
    main()
