"""The SCS layer of a region: standard flavors, images with their metadata, availability
zone. Pure data; the rules of the standards live in scs_deploy.scs."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from scs_deploy.model.base import StrictModel
from scs_deploy.scs import flavor_names, image_metadata

#: scs-0101: every flavor lets its guests use the host's entropy through virtio-rng.
RNG_EXTRA_SPECS: dict[str, str] = {"hw_rng:allowed": "True"}


def _default_rule(direction: str, ethertype: str, *, default: bool, other: bool) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "direction": direction,
        "ethertype": ethertype,
        "used_in_default_sg": default,
        "used_in_non_default_sg": other,
    }
    if direction == "ingress":
        rule["remote_group_id"] = "PARENT"
    return rule


#: scs-0115: every new security group lets all traffic out; a project's default group
#: lets in only what comes from its own members; groups users make let nothing in.
DEFAULT_SECURITY_GROUP_RULES: tuple[dict[str, Any], ...] = tuple(
    rule
    for ethertype in ("IPv4", "IPv6")
    for rule in (
        _default_rule("egress", ethertype, default=True, other=True),
        _default_rule("ingress", ethertype, default=True, other=False),
    )
)


class Flavor(StrictModel):
    """An operator's own flavor; an ``SCS-`` name is the truth about it (scs-0100), so its
    size comes from the name unless given, and must agree with it when given."""

    name: str = Field(min_length=1, max_length=255)
    vcpus: int | None = Field(default=None, ge=1)
    ram: int | None = Field(default=None, ge=1, description="MiB")
    disk: int | None = Field(default=None, ge=0, description="GiB, 0: boot from volume")
    is_public: bool = True
    extra_specs: dict[str, str] = {}
    # A flavor outside scs-0100 on purpose: a name without the SCS- prefix.
    scs_exempt: bool = False

    @model_validator(mode="after")
    def _scs_rules(self) -> Flavor:
        if self.scs_exempt:
            if flavor_names.is_scs_name(self.name):
                raise ValueError(
                    f"'{self.name}': an SCS- name always follows scs-0100; give an exempt "
                    "flavor a name without the SCS- prefix"
                )
            if None in (self.vcpus, self.ram, self.disk):
                raise ValueError("an exempt flavor needs vcpus, ram and disk")
            return self
        if not flavor_names.is_scs_name(self.name):
            raise ValueError(
                f"'{self.name}' is not an SCS flavor name (scs-0100: SCS-<cpus><L|V|T|C>-<ram>"
                "[-<disk>]); set scs_exempt: true to offer it anyway"
            )
        try:
            parsed = flavor_names.parse(self.name)
        except flavor_names.FlavorNameError as exc:
            raise ValueError(f"scs-0100: {exc}") from None
        problems = flavor_names.semantic_problems(
            parsed,
            self.vcpus if self.vcpus is not None else parsed.cpus,
            self.ram if self.ram is not None else parsed.ram_mib,
            self.disk if self.disk is not None else (parsed.disk_gib or 0),
            self.extra_specs,
        )
        problems += [
            f"extra spec {key} is {self.extra_specs[key]!r}, the name says {value!r}"
            for key, value in parsed.extra_specs().items()
            if key in self.extra_specs and self.extra_specs[key] != value
        ]
        if problems:
            raise ValueError(f"scs-0100: {self.name}: {'; '.join(problems)}")
        if parsed.name in flavor_names.MANDATORY_FLAVORS + flavor_names.RECOMMENDED_FLAVORS:
            standard = (parsed.cpus, parsed.ram_mib, parsed.disk_gib or 0)
            given = (self.vcpus, self.ram, self.disk)
            if any(g is not None and g != s for g, s in zip(given, standard, strict=True)):
                raise ValueError(
                    f"scs-0103: {self.name} is a standard flavor: its vcpus, ram and disk are "
                    f"{standard[0]}, {standard[1]} MiB and {standard[2]} GiB exactly"
                )
        return self

    def resolved(self) -> dict[str, Any]:
        """The flavor as the post-deploy phase creates it."""
        specs: dict[str, str] = {}
        if flavor_names.is_scs_name(self.name) and not self.scs_exempt:
            parsed = flavor_names.parse(self.name)
            specs |= parsed.extra_specs()
            sizes = (parsed.cpus, parsed.ram_mib, parsed.disk_gib or 0)
        else:
            sizes = (0, 0, 0)
        vcpus, ram, disk = sizes
        return {
            "name": self.name,
            "vcpus": self.vcpus if self.vcpus is not None else vcpus,
            "ram": self.ram if self.ram is not None else ram,
            "disk": self.disk if self.disk is not None else disk,
            "is_public": self.is_public,
            "extra_specs": RNG_EXTRA_SPECS | self.extra_specs | specs,
        }


class Image(StrictModel):
    """A public image, from a file beside region.yml or from a URL, with the metadata of
    scs-0102 in ``properties`` (architecture, os_distro, os_version, hw_disk_bus,
    image_build_date, image_original_user, image_source, image_description,
    replace_frequency, provided_until, uuid_validity, ...)."""

    name: str = Field(min_length=1, max_length=255)
    # Relative to the region directory.
    file: str | None = None
    url: str | None = Field(default=None, pattern=r"^(https?|ftps?)://")
    # "sha256:<hex>" (or sha512): checked after a download, before the upload.
    checksum: str | None = Field(
        default=None, pattern=r"^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$"
    )
    disk_format: Literal["raw", "qcow2"] = "qcow2"
    min_disk: int = Field(ge=1, description="GiB")
    min_ram: int = Field(ge=1, description="MiB")
    properties: dict[str, str] = {}
    # An image without complete scs-0102 metadata, on purpose.
    scs_exempt: bool = False

    @model_validator(mode="after")
    def _source_and_metadata(self) -> Image:
        if (self.file is None) == (self.url is None):
            raise ValueError("give exactly one of file (beside region.yml) and url")
        if self.url is not None and self.checksum is None:
            raise ValueError("an image from a URL needs its checksum (sha256:<hex>)")
        if self.scs_exempt:
            return self
        declared = {"name": self.name, "min_disk": self.min_disk, "min_ram": self.min_ram}
        problems = image_metadata.property_problems(self.properties | declared)
        if problems:
            listed = "; ".join(f"{test_id}: {problem}" for test_id, problem in problems.items())
            raise ValueError(
                f"{listed} (scs-0102 metadata; set scs_exempt: true to offer it anyway)"
            )
        return self

    def resolved(self, file: Path | None, cache_dir: Path) -> dict[str, Any]:
        """The image as the post-deploy phase uploads it: ``file`` its absolute path; an
        image from a URL is uploaded from ``cache_dir``, where it is kept by checksum."""
        if file is None:
            file = cache_dir / str(self.checksum).replace(":", "-")
        return {
            "name": self.name,
            "file": str(file),
            "url": self.url,
            "checksum": self.checksum,
            "disk_format": self.disk_format,
            "min_disk": self.min_disk,
            "min_ram": self.min_ram,
            "properties": dict(self.properties),
        }


class ScsSettings(StrictModel):
    """What the post-deploy phase creates through the APIs, with SCS defaults."""

    # scs-0103: "mandatory" is what the certificate requires; "recommended" adds the
    # flavors with a root disk and the large ones.
    standard_flavors: Literal["mandatory", "recommended"] = "recommended"
    flavors: list[Flavor] = []
    images: list[Image] = []

    @model_validator(mode="after")
    def _unique_names(self) -> ScsSettings:
        for kind, names in (
            ("flavor", [f.name for f in self.flavors]),
            ("image", [i.name for i in self.images]),
        ):
            doubled = sorted({n for n in names if names.count(n) > 1})
            if doubled:
                raise ValueError(f"{kind} names must be unique: {', '.join(doubled)}")
        return self

    @property
    def all_flavors(self) -> list[dict[str, Any]]:
        """The standard flavors, then the operator's; the operator's own entry for a standard
        name replaces it (to add extra specs, or to make it private)."""
        own = {f.name: f for f in self.flavors}
        standard = flavor_names.standard_flavors(recommended=self.standard_flavors == "recommended")
        found = [
            (own.pop(parsed.name) if parsed.name in own else Flavor(name=parsed.name)).resolved()
            for parsed in standard
        ]
        return found + [f.resolved() for f in own.values()]
