#!/usr/bin/python
# Copyright: scs-deploy contributors
# Apache License 2.0 (see LICENSE)
"""Ansible module: public Glance images with their metadata, in one connection."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: scs_images
short_description: Make sure Glance images exist with the listed metadata
description:
  - For each listed image, uploads it from its file when no image of that name exists, and
    sets visibility, min_disk, min_ram and the listed properties where they differ.
    Properties that are not listed, and images that are not listed, are left alone; the
    data of an existing image is never replaced (a new build is a new image name).
  - Runs where openstacksdk is importable; the credentials come from clouds.yaml
    (OS_CLIENT_CONFIG_FILE) by cloud name.
options:
  cloud:
    description: Name of the (admin) cloud in clouds.yaml.
    type: str
    required: true
  images:
    description: Images with name, file, disk_format, min_disk (GiB), min_ram (MiB) and
      properties (strings).
    type: list
    elements: dict
    required: true
  timeout:
    description: Seconds an upload may take until the image is active.
    type: int
    default: 900
"""

EXAMPLES = r"""
- name: Upload the test image
  scs_images:
    cloud: testbed-admin
    images:
      - {name: scs-test-guest, file: /srv/scs-test-guest.raw, disk_format: raw, min_disk: 1,
         min_ram: 128, properties: {architecture: x86_64, hw_disk_bus: virtio}}
"""

RETURN = r"""
changes:
  description: Images uploaded and updated.
  type: list
  elements: str
  returned: always
"""

# Ansible modules put DOCUMENTATION before the imports (ansible-test layout).
import traceback  # noqa: E402

from ansible.module_utils.basic import AnsibleModule, missing_required_lib  # noqa: E402

try:
    import openstack

    HAS_OPENSTACKSDK = True
    OPENSTACKSDK_ERROR = None
except ImportError:
    HAS_OPENSTACKSDK = False
    OPENSTACKSDK_ERROR = traceback.format_exc()


def wanted_attributes(wanted):
    return {
        "visibility": "public",
        "min_disk": int(wanted["min_disk"]),
        "min_ram": int(wanted["min_ram"]),
    }


def differences(image, wanted):
    """The attributes and properties of an image that differ from what is wanted."""
    update = {k: v for k, v in wanted_attributes(wanted).items() if getattr(image, k) != v}
    current = image.to_dict(computed=False)
    current.update(image.properties or {})
    for key, value in (wanted.get("properties") or {}).items():
        if str(current.get(key) if current.get(key) is not None else "") != str(value):
            update[key] = str(value)
    return update


def ensure(module, conn, existing, wanted):
    name = wanted["name"]
    image = existing.get(name)
    if image is None or image.status in ("killed", "deleted"):
        if not module.check_mode:
            properties = {k: str(v) for k, v in (wanted.get("properties") or {}).items()}
            conn.create_image(
                name,
                filename=wanted["file"],
                disk_format=wanted["disk_format"],
                container_format="bare",
                wait=True,
                timeout=module.params["timeout"],
                **wanted_attributes(wanted),
                **properties,
            )
        return [f"{name} uploaded"]
    changes = []
    if image.status == "deactivated":
        changes.append(f"{name} reactivated")
        if not module.check_mode:
            conn.image.reactivate_image(image)
    update = differences(image, wanted)
    if update:
        changes.append(f"{name}: {', '.join(sorted(update))}")
        if not module.check_mode:
            # JSON patch "add" sets a property whether it is there or not (openstacksdk's
            # update_image sends "replace" for a removed one: Glance answers 409); the core
            # attributes are always there and are replaced.
            core = wanted_attributes(wanted)
            patch = [
                {"op": "replace" if key in core else "add", "path": f"/{key}", "value": value}
                for key, value in update.items()
            ]
            response = conn.image.patch(
                f"/images/{image.id}",
                json=patch,
                headers={"Content-Type": "application/openstack-images-v2.1-json-patch"},
            )
            openstack.exceptions.raise_from_response(response)
    return changes


def main():
    module = AnsibleModule(
        argument_spec={
            "cloud": {"type": "str", "required": True},
            "images": {"type": "list", "elements": "dict", "required": True},
            "timeout": {"type": "int", "default": 900},
        },
        supports_check_mode=True,
    )
    if not HAS_OPENSTACKSDK:
        module.fail_json(msg=missing_required_lib("openstacksdk"), exception=OPENSTACKSDK_ERROR)
    changes = []
    try:
        conn = openstack.connect(cloud=module.params["cloud"])
        names = {wanted["name"] for wanted in module.params["images"]}
        existing = {i.name: i for i in conn.image.images() if i.name in names}
        for wanted in module.params["images"]:
            changes += ensure(module, conn, existing, wanted)
    except openstack.exceptions.SDKException as error:
        module.fail_json(msg=f"Glance: {error}", changes=changes)
    module.exit_json(changed=bool(changes), changes=changes)


if __name__ == "__main__":
    main()
