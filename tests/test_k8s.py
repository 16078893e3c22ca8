"""The Kubernetes manifests (deploy/k8s, README "Kubernetes"): rendered as kustomize renders
them here (the kustomization's resources with its image tags and labels applied), every
object is valid against the Kubernetes API schema of a current release (kubernetes-validate,
offline, strict: an unknown field fails), and they match the code: the probes' paths, one
worker per queue, beat single, the migration Job, the settings the ConfigMap sets."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from django.conf import settings
from django.urls import resolve

from tests.test_deploy import settings_env_vars

K8S = Path(settings.BASE_DIR) / "deploy" / "k8s"
KUBERNETES_VERSION = "1.33"


def kustomization() -> dict[str, Any]:
    return yaml.safe_load((K8S / "kustomization.yaml").read_text())


def render() -> list[dict[str, Any]]:
    """The objects ``kubectl apply -k deploy/k8s`` would send: each resource file's documents,
    with the kustomization's ``images`` (new name and tag) and ``labels`` applied."""
    k = kustomization()
    images = {i["name"]: i for i in k.get("images", [])}
    labels: dict[str, str] = {}
    for entry in k.get("labels", []):
        labels.update(entry["pairs"])
    objects = []
    for name in k["resources"]:
        for doc in yaml.safe_load_all((K8S / name).read_text()):
            if not doc:
                continue
            doc["metadata"].setdefault("labels", {}).update(labels)
            for container in _containers(doc):
                image = container["image"]
                repository = image.split(":", 1)[0]
                if repository in images:
                    new = images[repository]
                    container["image"] = f"{new.get('newName', repository)}:{new['newTag']}"
            objects.append(doc)
    return objects


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = doc.get("spec", {})
    template = spec.get("template") or spec.get("jobTemplate", {}).get("spec", {}).get("template")
    if not template:
        return []
    return list(template["spec"].get("containers", []))


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in render() if o["kind"] == kind}


@pytest.mark.parametrize(
    "obj",
    [*render(), *yaml.safe_load_all((K8S / "secret.example.yaml").read_text())],
    ids=lambda o: f"{o['kind']}/{o['metadata']['name']}",
)
def test_every_object_is_valid_for_the_kubernetes_api(obj: dict[str, Any]) -> None:
    kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_every_resource_file_is_in_the_kustomization() -> None:
    listed = set(kustomization()["resources"])
    present = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "secret.example.yaml"}
    assert listed == present


def test_the_web_probes_ask_the_services_probes() -> None:
    (web,) = _containers(by_kind("Deployment")["mediation-web"])
    assert resolve(web["readinessProbe"]["httpGet"]["path"]).url_name == "readyz"
    assert resolve(web["livenessProbe"]["httpGet"]["path"]).url_name == "healthz"
    port = web["ports"][0]
    assert (
        port["containerPort"] == 8000 and web["readinessProbe"]["httpGet"]["port"] == port["name"]
    )
    env = {e["name"]: e["value"] for e in web["env"]}
    assert env["PROMETHEUS_MULTIPROC_DIR"] in {m["mountPath"] for m in web["volumeMounts"]}
    service = by_kind("Service")["mediation-web"]
    assert service["spec"]["ports"][0]["targetPort"] == port["name"]


def test_one_worker_deployment_per_queue_each_with_an_autoscaler() -> None:
    deployments = by_kind("Deployment")
    queues = {}
    for name, deployment in deployments.items():
        (container,) = _containers(deployment)
        command = container.get("command", [])
        if command[:4] == ["celery", "-A", "config", "worker"]:
            queues[name] = command[command.index("-Q") + 1]
            grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
            assert grace > settings.CELERY_TASK_TIME_LIMIT, name
            probe = " ".join(container["livenessProbe"]["exec"]["command"])
            assert "inspect ping --destination celery@$HOSTNAME" in probe
    assert sorted(queues.values()) == sorted(settings.WORKER_QUEUES)
    scaled = {
        h["spec"]["scaleTargetRef"]["name"] for h in by_kind("HorizontalPodAutoscaler").values()
    }
    assert scaled == {*queues, "mediation-web"}


def test_beat_is_single_and_checked() -> None:
    beat = by_kind("Deployment")["mediation-beat"]
    assert beat["spec"]["replicas"] == 1 and beat["spec"]["strategy"]["type"] == "Recreate"
    (container,) = _containers(beat)
    assert container["command"] == ["celery", "-A", "config", "beat", "-l", "info"]
    assert container["livenessProbe"]["exec"]["command"] == ["python", "manage.py", "beat_health"]


def test_the_migrations_are_a_job_run_before_the_release() -> None:
    job = by_kind("Job")["mediation-migrate"]
    assert job["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "PreSync"
    (container,) = _containers(job)
    assert container["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    for deployment in by_kind("Deployment").values():
        for c in _containers(deployment):
            assert "migrate" not in c.get("command", []), deployment["metadata"]["name"]


def test_every_pod_takes_the_config_and_the_secret_and_a_pinned_image() -> None:
    tag = kustomization()["images"][0]["newTag"]
    for obj in render():
        for container in _containers(obj):
            refs = {next(iter(e.values()))["name"] for e in container["envFrom"]}
            assert refs == {"mediation-config", "mediation-secrets"}, obj["metadata"]["name"]
            assert container["image"] == f"mediation-service:{tag}" and tag != "latest"
            assert obj["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True


def test_the_configmap_and_the_secret_set_only_documented_settings() -> None:
    read = settings_env_vars()
    config = by_kind("ConfigMap")["mediation-config"]["data"]
    assert set(config) <= read, sorted(set(config) - read)
    assert config["DJANGO_DEBUG"] == "0" and config["LOG_FORMAT"] == "json"
    (secret,) = list(yaml.safe_load_all((K8S / "secret.example.yaml").read_text()))
    assert set(secret["stringData"]) <= read
    assert not any(secret["stringData"].values()), "the example holds no secret"
    assert not set(config) & set(secret["stringData"])
    assert re.fullmatch(r"redis://[\w.-]+:6379/\d+", config["CELERY_BROKER_URL"])
    assert config["REDIS_URL"] != config["CELERY_BROKER_URL"]


def test_the_validator_refuses_what_the_api_would() -> None:
    """Guards the check itself: a misspelt field and a wrong type are refused."""
    web = by_kind("Deployment")["mediation-web"]
    misspelt = yaml.safe_load(yaml.safe_dump(web))
    misspelt["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(misspelt, KUBERNETES_VERSION, strict=True)
    wrong = yaml.safe_load(yaml.safe_dump(web))
    wrong["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(wrong, KUBERNETES_VERSION, strict=True)
