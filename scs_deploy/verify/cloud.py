"""What the checks read from a region, each list fetched once, through DIR/clouds.yaml.

Checks see plain dicts, not openstacksdk resources: that keeps them pure functions of
data, tested without a cloud. The member connection is what a customer sees (the
certificate's tests run as a project member); admin is used only where the
standards speak of the operator's settings.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from scs_deploy.releases import StandardImage
from scs_deploy.verify.workload import Workload


class RegionCloud:
    def __init__(
        self,
        clouds_yaml: Path,
        region_name: str,
        now: datetime,
        standard_images: Sequence[StandardImage] = (),
    ) -> None:
        self.clouds_yaml = clouds_yaml
        self.region_name = region_name
        self.now = now
        # scs-0104's images, as the region's release lists them.
        self.standard_images = tuple(standard_images)
        self._connections: dict[str, Any] = {}
        self._workload: Workload | Exception | None = None
        self.say: Callable[[str], None] = lambda _line: None

    def connection(self, who: str) -> Any:
        """``admin`` or ``member``, opened on first use."""
        if who not in self._connections:
            from scs_deploy.smoke import connect

            self._connections[who] = connect(self.clouds_yaml, f"{self.region_name}-{who}")
        return self._connections[who]

    @property
    def admin(self) -> Any:
        return self.connection("admin")

    @property
    def member(self) -> Any:
        return self.connection("member")

    def close(self) -> None:
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()

    @property
    def workload(self) -> Workload:
        """The smoke workload, run once for every check that reads from it; a failure is
        kept too, so that the checks after the first do not boot another guest."""
        if self._workload is None:
            from scs_deploy.verify.workload import run_workload

            self._workload = run_workload(self)
        if isinstance(self._workload, Exception):
            raise self._workload
        return self._workload

    @functools.cached_property
    def flavors(self) -> list[dict[str, Any]]:
        """The flavors a member sees, with their extra specs."""
        return [
            {
                "id": f.id,
                "name": f.name,
                "vcpus": f.vcpus,
                "ram": f.ram,
                "disk": f.disk,
                "is_public": f.is_public,
                "is_disabled": f.is_disabled,
                "extra_specs": dict(f.extra_specs or {}),
            }
            for f in self.member.compute.flavors(details=True, get_extra_specs=True)
        ]

    def reachable(self, url: str) -> bool:
        """Whether ``url`` answers an HTTP request from here at all."""
        import requests

        try:
            requests.head(url, timeout=10, allow_redirects=True)
        except requests.RequestException:
            return False
        return True

    def s3_probe(self, url: str) -> str:
        """The body of S3's answer at ``url`` to a request signed (AWS signature 4, as S3
        clients sign) with an access key that does not exist."""
        import requests

        stamp = self.now.strftime("%Y%m%dT%H%M%SZ")
        scope = f"{stamp[:8]}/us-east-1/s3/aws4_request"
        answer = requests.get(
            url,
            headers={
                "x-amz-date": stamp,
                "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
                "Authorization": "AWS4-HMAC-SHA256 "
                f"Credential=scs-verify-unknown-key/{scope}, "
                "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=" + "0" * 64,
            },
            verify=self.member.session.verify,
            timeout=30,
        )
        return answer.text

    @functools.cached_property
    def public_images(self) -> list[dict[str, Any]]:
        """Active public images with every property, as Glance shows them."""
        return [
            image.to_dict(computed=False)
            | dict(image.properties or {})
            | {"visibility": image.visibility}
            for image in self.member.image.images(visibility="public")
        ]

    @functools.cached_property
    def volume_types(self) -> list[dict[str, Any]]:
        return [
            {"name": t.name, "description": t.description or "", "is_public": t.is_public}
            for t in self.member.block_storage.types()
        ]

    @functools.cached_property
    def default_security_group_rules(self) -> list[dict[str, Any]]:
        """Neutron's template rules for every new default (and custom) security group."""
        found = []
        for rule in self.member.network.default_security_group_rules():
            as_api = rule.to_dict(computed=False)
            # openstacksdk's name for the API's ethertype
            as_api["ethertype"] = as_api.pop("ether_type", None)
            found.append(as_api)
        return found

    @functools.cached_property
    def member_project_id(self) -> str:
        return str(self.member.current_project_id)

    @functools.cached_property
    def catalog(self) -> list[dict[str, Any]]:
        """The service catalog of a member's token: type, name and endpoints of each."""
        access = self.member.session.auth.get_access(self.member.session)
        return list(access.service_catalog.catalog)
