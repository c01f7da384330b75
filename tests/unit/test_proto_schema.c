/* Unit test for the Kubernetes schema in proto/k8s/: checks, through the
 * protobuf-c descriptors, that every upstream message of the covered
 * group-versions exists under its full name, that per-package message and field
 * totals match upstream v0.32.13, and a sample of critical field names,
 * numbers, labels and types. Also packs a few messages and compares the bytes
 * with hand-computed upstream wire encodings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "k8s/api/admissionregistration/v1/generated.pb-c.h"
#include "k8s/api/apidiscovery/v2/generated.pb-c.h"
#include "k8s/api/apps/v1/generated.pb-c.h"
#include "k8s/api/authentication/v1/generated.pb-c.h"
#include "k8s/api/authorization/v1/generated.pb-c.h"
#include "k8s/api/autoscaling/v1/generated.pb-c.h"
#include "k8s/api/autoscaling/v2/generated.pb-c.h"
#include "k8s/api/batch/v1/generated.pb-c.h"
#include "k8s/api/certificates/v1/generated.pb-c.h"
#include "k8s/api/coordination/v1/generated.pb-c.h"
#include "k8s/api/core/v1/generated.pb-c.h"
#include "k8s/api/discovery/v1/generated.pb-c.h"
#include "k8s/api/events/v1/generated.pb-c.h"
#include "k8s/api/flowcontrol/v1/generated.pb-c.h"
#include "k8s/api/networking/v1/generated.pb-c.h"
#include "k8s/api/node/v1/generated.pb-c.h"
#include "k8s/api/policy/v1/generated.pb-c.h"
#include "k8s/api/rbac/v1/generated.pb-c.h"
#include "k8s/api/scheduling/v1/generated.pb-c.h"
#include "k8s/api/storage/v1/generated.pb-c.h"
#include "k8s/apimachinery/pkg/api/resource/generated.pb-c.h"
#include "k8s/apimachinery/pkg/apis/meta/v1/generated.pb-c.h"
#include "k8s/apimachinery/pkg/apis/meta/v1/k8c_table.pb-c.h"
#include "k8s/apimachinery/pkg/apis/meta/v1beta1/generated.pb-c.h"
#include "k8s/apimachinery/pkg/runtime/generated.pb-c.h"
#include "k8s/apimachinery/pkg/runtime/schema/generated.pb-c.h"
#include "k8s/apimachinery/pkg/util/intstr/generated.pb-c.h"

struct named_desc {
    const char *name;
    const ProtobufCMessageDescriptor *desc;
};

/* clang-format off */
#define D(sym, full) {(full), &(sym)}
/* clang-format on */

/* Every top-level message of every file under proto/k8s/, in file order. */
static const struct named_desc all_messages[] = {
    /* k8s/apimachinery/pkg/api/resource/generated.proto */
    D(k8s__io__apimachinery__pkg__api__resource__quantity__descriptor,
      "k8s.io.apimachinery.pkg.api.resource.Quantity"),
    D(k8s__io__apimachinery__pkg__api__resource__quantity_value__descriptor,
      "k8s.io.apimachinery.pkg.api.resource.QuantityValue"),
    /* k8s/apimachinery/pkg/runtime/generated.proto */
    D(k8s__io__apimachinery__pkg__runtime__raw_extension__descriptor,
      "k8s.io.apimachinery.pkg.runtime.RawExtension"),
    D(k8s__io__apimachinery__pkg__runtime__type_meta__descriptor,
      "k8s.io.apimachinery.pkg.runtime.TypeMeta"),
    D(k8s__io__apimachinery__pkg__runtime__unknown__descriptor,
      "k8s.io.apimachinery.pkg.runtime.Unknown"),
    /* k8s/apimachinery/pkg/util/intstr/generated.proto */
    D(k8s__io__apimachinery__pkg__util__intstr__int_or_string__descriptor,
      "k8s.io.apimachinery.pkg.util.intstr.IntOrString"),
    /* k8s/apimachinery/pkg/apis/meta/v1/generated.proto */
    D(k8s__io__apimachinery__pkg__apis__meta__v1__apigroup__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.APIGroup"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__apigroup_list__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.APIGroupList"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__apiresource__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.APIResource"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__apiresource_list__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.APIResourceList"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__apiversions__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.APIVersions"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__apply_options__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.ApplyOptions"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__condition__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.Condition"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__create_options__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.CreateOptions"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__delete_options__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__duration__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.Duration"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__field_selector_requirement__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.FieldSelectorRequirement"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__fields_v1__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__get_options__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.GetOptions"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__group_kind__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.GroupKind"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__group_resource__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.GroupResource"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__group_version__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.GroupVersion"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__group_version_for_discovery__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.GroupVersionForDiscovery"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__group_version_kind__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.GroupVersionKind"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__group_version_resource__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.GroupVersionResource"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__label_selector__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__label_selector_requirement__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__list__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.List"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__list_meta__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__list_options__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.ListOptions"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__managed_fields_entry__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__micro_time__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__object_meta__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__owner_reference__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.OwnerReference"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__partial_object_metadata__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.PartialObjectMetadata"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__partial_object_metadata_list__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.PartialObjectMetadataList"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__patch__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.Patch"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__patch_options__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.PatchOptions"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__preconditions__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.Preconditions"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__root_paths__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.RootPaths"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__server_address_by_client_cidr__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.ServerAddressByClientCIDR"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__status__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.Status"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__status_cause__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.StatusCause"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__status_details__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.StatusDetails"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__table_options__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.TableOptions"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__time__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.Time"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__timestamp__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.Timestamp"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__type_meta__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.TypeMeta"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__update_options__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.UpdateOptions"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__verbs__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.Verbs"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__watch_event__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.WatchEvent"),
    /* k8s/apimachinery/pkg/apis/meta/v1beta1/generated.proto */
    D(k8s__io__apimachinery__pkg__apis__meta__v1beta1__partial_object_metadata_list__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1beta1.PartialObjectMetadataList"),
    /* k8s/api/core/v1/generated.proto */
    D(k8s__io__api__core__v1__awselastic_block_store_volume_source__descriptor,
      "k8s.io.api.core.v1.AWSElasticBlockStoreVolumeSource"),
    D(k8s__io__api__core__v1__affinity__descriptor, "k8s.io.api.core.v1.Affinity"),
    D(k8s__io__api__core__v1__app_armor_profile__descriptor, "k8s.io.api.core.v1.AppArmorProfile"),
    D(k8s__io__api__core__v1__attached_volume__descriptor, "k8s.io.api.core.v1.AttachedVolume"),
    D(k8s__io__api__core__v1__avoid_pods__descriptor, "k8s.io.api.core.v1.AvoidPods"),
    D(k8s__io__api__core__v1__azure_disk_volume_source__descriptor,
      "k8s.io.api.core.v1.AzureDiskVolumeSource"),
    D(k8s__io__api__core__v1__azure_file_persistent_volume_source__descriptor,
      "k8s.io.api.core.v1.AzureFilePersistentVolumeSource"),
    D(k8s__io__api__core__v1__azure_file_volume_source__descriptor,
      "k8s.io.api.core.v1.AzureFileVolumeSource"),
    D(k8s__io__api__core__v1__binding__descriptor, "k8s.io.api.core.v1.Binding"),
    D(k8s__io__api__core__v1__csipersistent_volume_source__descriptor,
      "k8s.io.api.core.v1.CSIPersistentVolumeSource"),
    D(k8s__io__api__core__v1__csivolume_source__descriptor, "k8s.io.api.core.v1.CSIVolumeSource"),
    D(k8s__io__api__core__v1__capabilities__descriptor, "k8s.io.api.core.v1.Capabilities"),
    D(k8s__io__api__core__v1__ceph_fspersistent_volume_source__descriptor,
      "k8s.io.api.core.v1.CephFSPersistentVolumeSource"),
    D(k8s__io__api__core__v1__ceph_fsvolume_source__descriptor,
      "k8s.io.api.core.v1.CephFSVolumeSource"),
    D(k8s__io__api__core__v1__cinder_persistent_volume_source__descriptor,
      "k8s.io.api.core.v1.CinderPersistentVolumeSource"),
    D(k8s__io__api__core__v1__cinder_volume_source__descriptor,
      "k8s.io.api.core.v1.CinderVolumeSource"),
    D(k8s__io__api__core__v1__client_ipconfig__descriptor, "k8s.io.api.core.v1.ClientIPConfig"),
    D(k8s__io__api__core__v1__cluster_trust_bundle_projection__descriptor,
      "k8s.io.api.core.v1.ClusterTrustBundleProjection"),
    D(k8s__io__api__core__v1__component_condition__descriptor,
      "k8s.io.api.core.v1.ComponentCondition"),
    D(k8s__io__api__core__v1__component_status__descriptor, "k8s.io.api.core.v1.ComponentStatus"),
    D(k8s__io__api__core__v1__component_status_list__descriptor,
      "k8s.io.api.core.v1.ComponentStatusList"),
    D(k8s__io__api__core__v1__config_map__descriptor, "k8s.io.api.core.v1.ConfigMap"),
    D(k8s__io__api__core__v1__config_map_env_source__descriptor,
      "k8s.io.api.core.v1.ConfigMapEnvSource"),
    D(k8s__io__api__core__v1__config_map_key_selector__descriptor,
      "k8s.io.api.core.v1.ConfigMapKeySelector"),
    D(k8s__io__api__core__v1__config_map_list__descriptor, "k8s.io.api.core.v1.ConfigMapList"),
    D(k8s__io__api__core__v1__config_map_node_config_source__descriptor,
      "k8s.io.api.core.v1.ConfigMapNodeConfigSource"),
    D(k8s__io__api__core__v1__config_map_projection__descriptor,
      "k8s.io.api.core.v1.ConfigMapProjection"),
    D(k8s__io__api__core__v1__config_map_volume_source__descriptor,
      "k8s.io.api.core.v1.ConfigMapVolumeSource"),
    D(k8s__io__api__core__v1__container__descriptor, "k8s.io.api.core.v1.Container"),
    D(k8s__io__api__core__v1__container_image__descriptor, "k8s.io.api.core.v1.ContainerImage"),
    D(k8s__io__api__core__v1__container_port__descriptor, "k8s.io.api.core.v1.ContainerPort"),
    D(k8s__io__api__core__v1__container_resize_policy__descriptor,
      "k8s.io.api.core.v1.ContainerResizePolicy"),
    D(k8s__io__api__core__v1__container_state__descriptor, "k8s.io.api.core.v1.ContainerState"),
    D(k8s__io__api__core__v1__container_state_running__descriptor,
      "k8s.io.api.core.v1.ContainerStateRunning"),
    D(k8s__io__api__core__v1__container_state_terminated__descriptor,
      "k8s.io.api.core.v1.ContainerStateTerminated"),
    D(k8s__io__api__core__v1__container_state_waiting__descriptor,
      "k8s.io.api.core.v1.ContainerStateWaiting"),
    D(k8s__io__api__core__v1__container_status__descriptor, "k8s.io.api.core.v1.ContainerStatus"),
    D(k8s__io__api__core__v1__container_user__descriptor, "k8s.io.api.core.v1.ContainerUser"),
    D(k8s__io__api__core__v1__daemon_endpoint__descriptor, "k8s.io.api.core.v1.DaemonEndpoint"),
    D(k8s__io__api__core__v1__downward_apiprojection__descriptor,
      "k8s.io.api.core.v1.DownwardAPIProjection"),
    D(k8s__io__api__core__v1__downward_apivolume_file__descriptor,
      "k8s.io.api.core.v1.DownwardAPIVolumeFile"),
    D(k8s__io__api__core__v1__downward_apivolume_source__descriptor,
      "k8s.io.api.core.v1.DownwardAPIVolumeSource"),
    D(k8s__io__api__core__v1__empty_dir_volume_source__descriptor,
      "k8s.io.api.core.v1.EmptyDirVolumeSource"),
    D(k8s__io__api__core__v1__endpoint_address__descriptor, "k8s.io.api.core.v1.EndpointAddress"),
    D(k8s__io__api__core__v1__endpoint_port__descriptor, "k8s.io.api.core.v1.EndpointPort"),
    D(k8s__io__api__core__v1__endpoint_subset__descriptor, "k8s.io.api.core.v1.EndpointSubset"),
    D(k8s__io__api__core__v1__endpoints__descriptor, "k8s.io.api.core.v1.Endpoints"),
    D(k8s__io__api__core__v1__endpoints_list__descriptor, "k8s.io.api.core.v1.EndpointsList"),
    D(k8s__io__api__core__v1__env_from_source__descriptor, "k8s.io.api.core.v1.EnvFromSource"),
    D(k8s__io__api__core__v1__env_var__descriptor, "k8s.io.api.core.v1.EnvVar"),
    D(k8s__io__api__core__v1__env_var_source__descriptor, "k8s.io.api.core.v1.EnvVarSource"),
    D(k8s__io__api__core__v1__ephemeral_container__descriptor,
      "k8s.io.api.core.v1.EphemeralContainer"),
    D(k8s__io__api__core__v1__ephemeral_container_common__descriptor,
      "k8s.io.api.core.v1.EphemeralContainerCommon"),
    D(k8s__io__api__core__v1__ephemeral_volume_source__descriptor,
      "k8s.io.api.core.v1.EphemeralVolumeSource"),
    D(k8s__io__api__core__v1__event__descriptor, "k8s.io.api.core.v1.Event"),
    D(k8s__io__api__core__v1__event_list__descriptor, "k8s.io.api.core.v1.EventList"),
    D(k8s__io__api__core__v1__event_series__descriptor, "k8s.io.api.core.v1.EventSeries"),
    D(k8s__io__api__core__v1__event_source__descriptor, "k8s.io.api.core.v1.EventSource"),
    D(k8s__io__api__core__v1__exec_action__descriptor, "k8s.io.api.core.v1.ExecAction"),
    D(k8s__io__api__core__v1__fcvolume_source__descriptor, "k8s.io.api.core.v1.FCVolumeSource"),
    D(k8s__io__api__core__v1__flex_persistent_volume_source__descriptor,
      "k8s.io.api.core.v1.FlexPersistentVolumeSource"),
    D(k8s__io__api__core__v1__flex_volume_source__descriptor,
      "k8s.io.api.core.v1.FlexVolumeSource"),
    D(k8s__io__api__core__v1__flocker_volume_source__descriptor,
      "k8s.io.api.core.v1.FlockerVolumeSource"),
    D(k8s__io__api__core__v1__gcepersistent_disk_volume_source__descriptor,
      "k8s.io.api.core.v1.GCEPersistentDiskVolumeSource"),
    D(k8s__io__api__core__v1__grpcaction__descriptor, "k8s.io.api.core.v1.GRPCAction"),
    D(k8s__io__api__core__v1__git_repo_volume_source__descriptor,
      "k8s.io.api.core.v1.GitRepoVolumeSource"),
    D(k8s__io__api__core__v1__glusterfs_persistent_volume_source__descriptor,
      "k8s.io.api.core.v1.GlusterfsPersistentVolumeSource"),
    D(k8s__io__api__core__v1__glusterfs_volume_source__descriptor,
      "k8s.io.api.core.v1.GlusterfsVolumeSource"),
    D(k8s__io__api__core__v1__httpget_action__descriptor, "k8s.io.api.core.v1.HTTPGetAction"),
    D(k8s__io__api__core__v1__httpheader__descriptor, "k8s.io.api.core.v1.HTTPHeader"),
    D(k8s__io__api__core__v1__host_alias__descriptor, "k8s.io.api.core.v1.HostAlias"),
    D(k8s__io__api__core__v1__host_ip__descriptor, "k8s.io.api.core.v1.HostIP"),
    D(k8s__io__api__core__v1__host_path_volume_source__descriptor,
      "k8s.io.api.core.v1.HostPathVolumeSource"),
    D(k8s__io__api__core__v1__iscsipersistent_volume_source__descriptor,
      "k8s.io.api.core.v1.ISCSIPersistentVolumeSource"),
    D(k8s__io__api__core__v1__iscsivolume_source__descriptor,
      "k8s.io.api.core.v1.ISCSIVolumeSource"),
    D(k8s__io__api__core__v1__image_volume_source__descriptor,
      "k8s.io.api.core.v1.ImageVolumeSource"),
    D(k8s__io__api__core__v1__key_to_path__descriptor, "k8s.io.api.core.v1.KeyToPath"),
    D(k8s__io__api__core__v1__lifecycle__descriptor, "k8s.io.api.core.v1.Lifecycle"),
    D(k8s__io__api__core__v1__lifecycle_handler__descriptor, "k8s.io.api.core.v1.LifecycleHandler"),
    D(k8s__io__api__core__v1__limit_range__descriptor, "k8s.io.api.core.v1.LimitRange"),
    D(k8s__io__api__core__v1__limit_range_item__descriptor, "k8s.io.api.core.v1.LimitRangeItem"),
    D(k8s__io__api__core__v1__limit_range_list__descriptor, "k8s.io.api.core.v1.LimitRangeList"),
    D(k8s__io__api__core__v1__limit_range_spec__descriptor, "k8s.io.api.core.v1.LimitRangeSpec"),
    D(k8s__io__api__core__v1__linux_container_user__descriptor,
      "k8s.io.api.core.v1.LinuxContainerUser"),
    D(k8s__io__api__core__v1__list__descriptor, "k8s.io.api.core.v1.List"),
    D(k8s__io__api__core__v1__load_balancer_ingress__descriptor,
      "k8s.io.api.core.v1.LoadBalancerIngress"),
    D(k8s__io__api__core__v1__load_balancer_status__descriptor,
      "k8s.io.api.core.v1.LoadBalancerStatus"),
    D(k8s__io__api__core__v1__local_object_reference__descriptor,
      "k8s.io.api.core.v1.LocalObjectReference"),
    D(k8s__io__api__core__v1__local_volume_source__descriptor,
      "k8s.io.api.core.v1.LocalVolumeSource"),
    D(k8s__io__api__core__v1__modify_volume_status__descriptor,
      "k8s.io.api.core.v1.ModifyVolumeStatus"),
    D(k8s__io__api__core__v1__nfsvolume_source__descriptor, "k8s.io.api.core.v1.NFSVolumeSource"),
    D(k8s__io__api__core__v1__namespace__descriptor, "k8s.io.api.core.v1.Namespace"),
    D(k8s__io__api__core__v1__namespace_condition__descriptor,
      "k8s.io.api.core.v1.NamespaceCondition"),
    D(k8s__io__api__core__v1__namespace_list__descriptor, "k8s.io.api.core.v1.NamespaceList"),
    D(k8s__io__api__core__v1__namespace_spec__descriptor, "k8s.io.api.core.v1.NamespaceSpec"),
    D(k8s__io__api__core__v1__namespace_status__descriptor, "k8s.io.api.core.v1.NamespaceStatus"),
    D(k8s__io__api__core__v1__node__descriptor, "k8s.io.api.core.v1.Node"),
    D(k8s__io__api__core__v1__node_address__descriptor, "k8s.io.api.core.v1.NodeAddress"),
    D(k8s__io__api__core__v1__node_affinity__descriptor, "k8s.io.api.core.v1.NodeAffinity"),
    D(k8s__io__api__core__v1__node_condition__descriptor, "k8s.io.api.core.v1.NodeCondition"),
    D(k8s__io__api__core__v1__node_config_source__descriptor,
      "k8s.io.api.core.v1.NodeConfigSource"),
    D(k8s__io__api__core__v1__node_config_status__descriptor,
      "k8s.io.api.core.v1.NodeConfigStatus"),
    D(k8s__io__api__core__v1__node_daemon_endpoints__descriptor,
      "k8s.io.api.core.v1.NodeDaemonEndpoints"),
    D(k8s__io__api__core__v1__node_features__descriptor, "k8s.io.api.core.v1.NodeFeatures"),
    D(k8s__io__api__core__v1__node_list__descriptor, "k8s.io.api.core.v1.NodeList"),
    D(k8s__io__api__core__v1__node_proxy_options__descriptor,
      "k8s.io.api.core.v1.NodeProxyOptions"),
    D(k8s__io__api__core__v1__node_runtime_handler__descriptor,
      "k8s.io.api.core.v1.NodeRuntimeHandler"),
    D(k8s__io__api__core__v1__node_runtime_handler_features__descriptor,
      "k8s.io.api.core.v1.NodeRuntimeHandlerFeatures"),
    D(k8s__io__api__core__v1__node_selector__descriptor, "k8s.io.api.core.v1.NodeSelector"),
    D(k8s__io__api__core__v1__node_selector_requirement__descriptor,
      "k8s.io.api.core.v1.NodeSelectorRequirement"),
    D(k8s__io__api__core__v1__node_selector_term__descriptor,
      "k8s.io.api.core.v1.NodeSelectorTerm"),
    D(k8s__io__api__core__v1__node_spec__descriptor, "k8s.io.api.core.v1.NodeSpec"),
    D(k8s__io__api__core__v1__node_status__descriptor, "k8s.io.api.core.v1.NodeStatus"),
    D(k8s__io__api__core__v1__node_system_info__descriptor, "k8s.io.api.core.v1.NodeSystemInfo"),
    D(k8s__io__api__core__v1__object_field_selector__descriptor,
      "k8s.io.api.core.v1.ObjectFieldSelector"),
    D(k8s__io__api__core__v1__object_reference__descriptor, "k8s.io.api.core.v1.ObjectReference"),
    D(k8s__io__api__core__v1__persistent_volume__descriptor, "k8s.io.api.core.v1.PersistentVolume"),
    D(k8s__io__api__core__v1__persistent_volume_claim__descriptor,
      "k8s.io.api.core.v1.PersistentVolumeClaim"),
    D(k8s__io__api__core__v1__persistent_volume_claim_condition__descriptor,
      "k8s.io.api.core.v1.PersistentVolumeClaimCondition"),
    D(k8s__io__api__core__v1__persistent_volume_claim_list__descriptor,
      "k8s.io.api.core.v1.PersistentVolumeClaimList"),
    D(k8s__io__api__core__v1__persistent_volume_claim_spec__descriptor,
      "k8s.io.api.core.v1.PersistentVolumeClaimSpec"),
    D(k8s__io__api__core__v1__persistent_volume_claim_status__descriptor,
      "k8s.io.api.core.v1.PersistentVolumeClaimStatus"),
    D(k8s__io__api__core__v1__persistent_volume_claim_template__descriptor,
      "k8s.io.api.core.v1.PersistentVolumeClaimTemplate"),
    D(k8s__io__api__core__v1__persistent_volume_claim_volume_source__descriptor,
      "k8s.io.api.core.v1.PersistentVolumeClaimVolumeSource"),
    D(k8s__io__api__core__v1__persistent_volume_list__descriptor,
      "k8s.io.api.core.v1.PersistentVolumeList"),
    D(k8s__io__api__core__v1__persistent_volume_source__descriptor,
      "k8s.io.api.core.v1.PersistentVolumeSource"),
    D(k8s__io__api__core__v1__persistent_volume_spec__descriptor,
      "k8s.io.api.core.v1.PersistentVolumeSpec"),
    D(k8s__io__api__core__v1__persistent_volume_status__descriptor,
      "k8s.io.api.core.v1.PersistentVolumeStatus"),
    D(k8s__io__api__core__v1__photon_persistent_disk_volume_source__descriptor,
      "k8s.io.api.core.v1.PhotonPersistentDiskVolumeSource"),
    D(k8s__io__api__core__v1__pod__descriptor, "k8s.io.api.core.v1.Pod"),
    D(k8s__io__api__core__v1__pod_affinity__descriptor, "k8s.io.api.core.v1.PodAffinity"),
    D(k8s__io__api__core__v1__pod_affinity_term__descriptor, "k8s.io.api.core.v1.PodAffinityTerm"),
    D(k8s__io__api__core__v1__pod_anti_affinity__descriptor, "k8s.io.api.core.v1.PodAntiAffinity"),
    D(k8s__io__api__core__v1__pod_attach_options__descriptor,
      "k8s.io.api.core.v1.PodAttachOptions"),
    D(k8s__io__api__core__v1__pod_condition__descriptor, "k8s.io.api.core.v1.PodCondition"),
    D(k8s__io__api__core__v1__pod_dnsconfig__descriptor, "k8s.io.api.core.v1.PodDNSConfig"),
    D(k8s__io__api__core__v1__pod_dnsconfig_option__descriptor,
      "k8s.io.api.core.v1.PodDNSConfigOption"),
    D(k8s__io__api__core__v1__pod_exec_options__descriptor, "k8s.io.api.core.v1.PodExecOptions"),
    D(k8s__io__api__core__v1__pod_ip__descriptor, "k8s.io.api.core.v1.PodIP"),
    D(k8s__io__api__core__v1__pod_list__descriptor, "k8s.io.api.core.v1.PodList"),
    D(k8s__io__api__core__v1__pod_log_options__descriptor, "k8s.io.api.core.v1.PodLogOptions"),
    D(k8s__io__api__core__v1__pod_os__descriptor, "k8s.io.api.core.v1.PodOS"),
    D(k8s__io__api__core__v1__pod_port_forward_options__descriptor,
      "k8s.io.api.core.v1.PodPortForwardOptions"),
    D(k8s__io__api__core__v1__pod_proxy_options__descriptor, "k8s.io.api.core.v1.PodProxyOptions"),
    D(k8s__io__api__core__v1__pod_readiness_gate__descriptor,
      "k8s.io.api.core.v1.PodReadinessGate"),
    D(k8s__io__api__core__v1__pod_resource_claim__descriptor,
      "k8s.io.api.core.v1.PodResourceClaim"),
    D(k8s__io__api__core__v1__pod_resource_claim_status__descriptor,
      "k8s.io.api.core.v1.PodResourceClaimStatus"),
    D(k8s__io__api__core__v1__pod_scheduling_gate__descriptor,
      "k8s.io.api.core.v1.PodSchedulingGate"),
    D(k8s__io__api__core__v1__pod_security_context__descriptor,
      "k8s.io.api.core.v1.PodSecurityContext"),
    D(k8s__io__api__core__v1__pod_signature__descriptor, "k8s.io.api.core.v1.PodSignature"),
    D(k8s__io__api__core__v1__pod_spec__descriptor, "k8s.io.api.core.v1.PodSpec"),
    D(k8s__io__api__core__v1__pod_status__descriptor, "k8s.io.api.core.v1.PodStatus"),
    D(k8s__io__api__core__v1__pod_status_result__descriptor, "k8s.io.api.core.v1.PodStatusResult"),
    D(k8s__io__api__core__v1__pod_template__descriptor, "k8s.io.api.core.v1.PodTemplate"),
    D(k8s__io__api__core__v1__pod_template_list__descriptor, "k8s.io.api.core.v1.PodTemplateList"),
    D(k8s__io__api__core__v1__pod_template_spec__descriptor, "k8s.io.api.core.v1.PodTemplateSpec"),
    D(k8s__io__api__core__v1__port_status__descriptor, "k8s.io.api.core.v1.PortStatus"),
    D(k8s__io__api__core__v1__portworx_volume_source__descriptor,
      "k8s.io.api.core.v1.PortworxVolumeSource"),
    D(k8s__io__api__core__v1__preconditions__descriptor, "k8s.io.api.core.v1.Preconditions"),
    D(k8s__io__api__core__v1__prefer_avoid_pods_entry__descriptor,
      "k8s.io.api.core.v1.PreferAvoidPodsEntry"),
    D(k8s__io__api__core__v1__preferred_scheduling_term__descriptor,
      "k8s.io.api.core.v1.PreferredSchedulingTerm"),
    D(k8s__io__api__core__v1__probe__descriptor, "k8s.io.api.core.v1.Probe"),
    D(k8s__io__api__core__v1__probe_handler__descriptor, "k8s.io.api.core.v1.ProbeHandler"),
    D(k8s__io__api__core__v1__projected_volume_source__descriptor,
      "k8s.io.api.core.v1.ProjectedVolumeSource"),
    D(k8s__io__api__core__v1__quobyte_volume_source__descriptor,
      "k8s.io.api.core.v1.QuobyteVolumeSource"),
    D(k8s__io__api__core__v1__rbdpersistent_volume_source__descriptor,
      "k8s.io.api.core.v1.RBDPersistentVolumeSource"),
    D(k8s__io__api__core__v1__rbdvolume_source__descriptor, "k8s.io.api.core.v1.RBDVolumeSource"),
    D(k8s__io__api__core__v1__range_allocation__descriptor, "k8s.io.api.core.v1.RangeAllocation"),
    D(k8s__io__api__core__v1__replication_controller__descriptor,
      "k8s.io.api.core.v1.ReplicationController"),
    D(k8s__io__api__core__v1__replication_controller_condition__descriptor,
      "k8s.io.api.core.v1.ReplicationControllerCondition"),
    D(k8s__io__api__core__v1__replication_controller_list__descriptor,
      "k8s.io.api.core.v1.ReplicationControllerList"),
    D(k8s__io__api__core__v1__replication_controller_spec__descriptor,
      "k8s.io.api.core.v1.ReplicationControllerSpec"),
    D(k8s__io__api__core__v1__replication_controller_status__descriptor,
      "k8s.io.api.core.v1.ReplicationControllerStatus"),
    D(k8s__io__api__core__v1__resource_claim__descriptor, "k8s.io.api.core.v1.ResourceClaim"),
    D(k8s__io__api__core__v1__resource_field_selector__descriptor,
      "k8s.io.api.core.v1.ResourceFieldSelector"),
    D(k8s__io__api__core__v1__resource_health__descriptor, "k8s.io.api.core.v1.ResourceHealth"),
    D(k8s__io__api__core__v1__resource_quota__descriptor, "k8s.io.api.core.v1.ResourceQuota"),
    D(k8s__io__api__core__v1__resource_quota_list__descriptor,
      "k8s.io.api.core.v1.ResourceQuotaList"),
    D(k8s__io__api__core__v1__resource_quota_spec__descriptor,
      "k8s.io.api.core.v1.ResourceQuotaSpec"),
    D(k8s__io__api__core__v1__resource_quota_status__descriptor,
      "k8s.io.api.core.v1.ResourceQuotaStatus"),
    D(k8s__io__api__core__v1__resource_requirements__descriptor,
      "k8s.io.api.core.v1.ResourceRequirements"),
    D(k8s__io__api__core__v1__resource_status__descriptor, "k8s.io.api.core.v1.ResourceStatus"),
    D(k8s__io__api__core__v1__selinux_options__descriptor, "k8s.io.api.core.v1.SELinuxOptions"),
    D(k8s__io__api__core__v1__scale_iopersistent_volume_source__descriptor,
      "k8s.io.api.core.v1.ScaleIOPersistentVolumeSource"),
    D(k8s__io__api__core__v1__scale_iovolume_source__descriptor,
      "k8s.io.api.core.v1.ScaleIOVolumeSource"),
    D(k8s__io__api__core__v1__scope_selector__descriptor, "k8s.io.api.core.v1.ScopeSelector"),
    D(k8s__io__api__core__v1__scoped_resource_selector_requirement__descriptor,
      "k8s.io.api.core.v1.ScopedResourceSelectorRequirement"),
    D(k8s__io__api__core__v1__seccomp_profile__descriptor, "k8s.io.api.core.v1.SeccompProfile"),
    D(k8s__io__api__core__v1__secret__descriptor, "k8s.io.api.core.v1.Secret"),
    D(k8s__io__api__core__v1__secret_env_source__descriptor, "k8s.io.api.core.v1.SecretEnvSource"),
    D(k8s__io__api__core__v1__secret_key_selector__descriptor,
      "k8s.io.api.core.v1.SecretKeySelector"),
    D(k8s__io__api__core__v1__secret_list__descriptor, "k8s.io.api.core.v1.SecretList"),
    D(k8s__io__api__core__v1__secret_projection__descriptor, "k8s.io.api.core.v1.SecretProjection"),
    D(k8s__io__api__core__v1__secret_reference__descriptor, "k8s.io.api.core.v1.SecretReference"),
    D(k8s__io__api__core__v1__secret_volume_source__descriptor,
      "k8s.io.api.core.v1.SecretVolumeSource"),
    D(k8s__io__api__core__v1__security_context__descriptor, "k8s.io.api.core.v1.SecurityContext"),
    D(k8s__io__api__core__v1__serialized_reference__descriptor,
      "k8s.io.api.core.v1.SerializedReference"),
    D(k8s__io__api__core__v1__service__descriptor, "k8s.io.api.core.v1.Service"),
    D(k8s__io__api__core__v1__service_account__descriptor, "k8s.io.api.core.v1.ServiceAccount"),
    D(k8s__io__api__core__v1__service_account_list__descriptor,
      "k8s.io.api.core.v1.ServiceAccountList"),
    D(k8s__io__api__core__v1__service_account_token_projection__descriptor,
      "k8s.io.api.core.v1.ServiceAccountTokenProjection"),
    D(k8s__io__api__core__v1__service_list__descriptor, "k8s.io.api.core.v1.ServiceList"),
    D(k8s__io__api__core__v1__service_port__descriptor, "k8s.io.api.core.v1.ServicePort"),
    D(k8s__io__api__core__v1__service_proxy_options__descriptor,
      "k8s.io.api.core.v1.ServiceProxyOptions"),
    D(k8s__io__api__core__v1__service_spec__descriptor, "k8s.io.api.core.v1.ServiceSpec"),
    D(k8s__io__api__core__v1__service_status__descriptor, "k8s.io.api.core.v1.ServiceStatus"),
    D(k8s__io__api__core__v1__session_affinity_config__descriptor,
      "k8s.io.api.core.v1.SessionAffinityConfig"),
    D(k8s__io__api__core__v1__sleep_action__descriptor, "k8s.io.api.core.v1.SleepAction"),
    D(k8s__io__api__core__v1__storage_ospersistent_volume_source__descriptor,
      "k8s.io.api.core.v1.StorageOSPersistentVolumeSource"),
    D(k8s__io__api__core__v1__storage_osvolume_source__descriptor,
      "k8s.io.api.core.v1.StorageOSVolumeSource"),
    D(k8s__io__api__core__v1__sysctl__descriptor, "k8s.io.api.core.v1.Sysctl"),
    D(k8s__io__api__core__v1__tcpsocket_action__descriptor, "k8s.io.api.core.v1.TCPSocketAction"),
    D(k8s__io__api__core__v1__taint__descriptor, "k8s.io.api.core.v1.Taint"),
    D(k8s__io__api__core__v1__toleration__descriptor, "k8s.io.api.core.v1.Toleration"),
    D(k8s__io__api__core__v1__topology_selector_label_requirement__descriptor,
      "k8s.io.api.core.v1.TopologySelectorLabelRequirement"),
    D(k8s__io__api__core__v1__topology_selector_term__descriptor,
      "k8s.io.api.core.v1.TopologySelectorTerm"),
    D(k8s__io__api__core__v1__topology_spread_constraint__descriptor,
      "k8s.io.api.core.v1.TopologySpreadConstraint"),
    D(k8s__io__api__core__v1__typed_local_object_reference__descriptor,
      "k8s.io.api.core.v1.TypedLocalObjectReference"),
    D(k8s__io__api__core__v1__typed_object_reference__descriptor,
      "k8s.io.api.core.v1.TypedObjectReference"),
    D(k8s__io__api__core__v1__volume__descriptor, "k8s.io.api.core.v1.Volume"),
    D(k8s__io__api__core__v1__volume_device__descriptor, "k8s.io.api.core.v1.VolumeDevice"),
    D(k8s__io__api__core__v1__volume_mount__descriptor, "k8s.io.api.core.v1.VolumeMount"),
    D(k8s__io__api__core__v1__volume_mount_status__descriptor,
      "k8s.io.api.core.v1.VolumeMountStatus"),
    D(k8s__io__api__core__v1__volume_node_affinity__descriptor,
      "k8s.io.api.core.v1.VolumeNodeAffinity"),
    D(k8s__io__api__core__v1__volume_projection__descriptor, "k8s.io.api.core.v1.VolumeProjection"),
    D(k8s__io__api__core__v1__volume_resource_requirements__descriptor,
      "k8s.io.api.core.v1.VolumeResourceRequirements"),
    D(k8s__io__api__core__v1__volume_source__descriptor, "k8s.io.api.core.v1.VolumeSource"),
    D(k8s__io__api__core__v1__vsphere_virtual_disk_volume_source__descriptor,
      "k8s.io.api.core.v1.VsphereVirtualDiskVolumeSource"),
    D(k8s__io__api__core__v1__weighted_pod_affinity_term__descriptor,
      "k8s.io.api.core.v1.WeightedPodAffinityTerm"),
    D(k8s__io__api__core__v1__windows_security_context_options__descriptor,
      "k8s.io.api.core.v1.WindowsSecurityContextOptions"),
    /* k8s/api/apps/v1/generated.proto */
    D(k8s__io__api__apps__v1__controller_revision__descriptor,
      "k8s.io.api.apps.v1.ControllerRevision"),
    D(k8s__io__api__apps__v1__controller_revision_list__descriptor,
      "k8s.io.api.apps.v1.ControllerRevisionList"),
    D(k8s__io__api__apps__v1__daemon_set__descriptor, "k8s.io.api.apps.v1.DaemonSet"),
    D(k8s__io__api__apps__v1__daemon_set_condition__descriptor,
      "k8s.io.api.apps.v1.DaemonSetCondition"),
    D(k8s__io__api__apps__v1__daemon_set_list__descriptor, "k8s.io.api.apps.v1.DaemonSetList"),
    D(k8s__io__api__apps__v1__daemon_set_spec__descriptor, "k8s.io.api.apps.v1.DaemonSetSpec"),
    D(k8s__io__api__apps__v1__daemon_set_status__descriptor, "k8s.io.api.apps.v1.DaemonSetStatus"),
    D(k8s__io__api__apps__v1__daemon_set_update_strategy__descriptor,
      "k8s.io.api.apps.v1.DaemonSetUpdateStrategy"),
    D(k8s__io__api__apps__v1__deployment__descriptor, "k8s.io.api.apps.v1.Deployment"),
    D(k8s__io__api__apps__v1__deployment_condition__descriptor,
      "k8s.io.api.apps.v1.DeploymentCondition"),
    D(k8s__io__api__apps__v1__deployment_list__descriptor, "k8s.io.api.apps.v1.DeploymentList"),
    D(k8s__io__api__apps__v1__deployment_spec__descriptor, "k8s.io.api.apps.v1.DeploymentSpec"),
    D(k8s__io__api__apps__v1__deployment_status__descriptor, "k8s.io.api.apps.v1.DeploymentStatus"),
    D(k8s__io__api__apps__v1__deployment_strategy__descriptor,
      "k8s.io.api.apps.v1.DeploymentStrategy"),
    D(k8s__io__api__apps__v1__replica_set__descriptor, "k8s.io.api.apps.v1.ReplicaSet"),
    D(k8s__io__api__apps__v1__replica_set_condition__descriptor,
      "k8s.io.api.apps.v1.ReplicaSetCondition"),
    D(k8s__io__api__apps__v1__replica_set_list__descriptor, "k8s.io.api.apps.v1.ReplicaSetList"),
    D(k8s__io__api__apps__v1__replica_set_spec__descriptor, "k8s.io.api.apps.v1.ReplicaSetSpec"),
    D(k8s__io__api__apps__v1__replica_set_status__descriptor,
      "k8s.io.api.apps.v1.ReplicaSetStatus"),
    D(k8s__io__api__apps__v1__rolling_update_daemon_set__descriptor,
      "k8s.io.api.apps.v1.RollingUpdateDaemonSet"),
    D(k8s__io__api__apps__v1__rolling_update_deployment__descriptor,
      "k8s.io.api.apps.v1.RollingUpdateDeployment"),
    D(k8s__io__api__apps__v1__rolling_update_stateful_set_strategy__descriptor,
      "k8s.io.api.apps.v1.RollingUpdateStatefulSetStrategy"),
    D(k8s__io__api__apps__v1__stateful_set__descriptor, "k8s.io.api.apps.v1.StatefulSet"),
    D(k8s__io__api__apps__v1__stateful_set_condition__descriptor,
      "k8s.io.api.apps.v1.StatefulSetCondition"),
    D(k8s__io__api__apps__v1__stateful_set_list__descriptor, "k8s.io.api.apps.v1.StatefulSetList"),
    D(k8s__io__api__apps__v1__stateful_set_ordinals__descriptor,
      "k8s.io.api.apps.v1.StatefulSetOrdinals"),
    D(k8s__io__api__apps__v1__stateful_set_persistent_volume_claim_retention_policy__descriptor,
      "k8s.io.api.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicy"),
    D(k8s__io__api__apps__v1__stateful_set_spec__descriptor, "k8s.io.api.apps.v1.StatefulSetSpec"),
    D(k8s__io__api__apps__v1__stateful_set_status__descriptor,
      "k8s.io.api.apps.v1.StatefulSetStatus"),
    D(k8s__io__api__apps__v1__stateful_set_update_strategy__descriptor,
      "k8s.io.api.apps.v1.StatefulSetUpdateStrategy"),
    /* k8s/api/batch/v1/generated.proto */
    D(k8s__io__api__batch__v1__cron_job__descriptor, "k8s.io.api.batch.v1.CronJob"),
    D(k8s__io__api__batch__v1__cron_job_list__descriptor, "k8s.io.api.batch.v1.CronJobList"),
    D(k8s__io__api__batch__v1__cron_job_spec__descriptor, "k8s.io.api.batch.v1.CronJobSpec"),
    D(k8s__io__api__batch__v1__cron_job_status__descriptor, "k8s.io.api.batch.v1.CronJobStatus"),
    D(k8s__io__api__batch__v1__job__descriptor, "k8s.io.api.batch.v1.Job"),
    D(k8s__io__api__batch__v1__job_condition__descriptor, "k8s.io.api.batch.v1.JobCondition"),
    D(k8s__io__api__batch__v1__job_list__descriptor, "k8s.io.api.batch.v1.JobList"),
    D(k8s__io__api__batch__v1__job_spec__descriptor, "k8s.io.api.batch.v1.JobSpec"),
    D(k8s__io__api__batch__v1__job_status__descriptor, "k8s.io.api.batch.v1.JobStatus"),
    D(k8s__io__api__batch__v1__job_template_spec__descriptor,
      "k8s.io.api.batch.v1.JobTemplateSpec"),
    D(k8s__io__api__batch__v1__pod_failure_policy__descriptor,
      "k8s.io.api.batch.v1.PodFailurePolicy"),
    D(k8s__io__api__batch__v1__pod_failure_policy_on_exit_codes_requirement__descriptor,
      "k8s.io.api.batch.v1.PodFailurePolicyOnExitCodesRequirement"),
    D(k8s__io__api__batch__v1__pod_failure_policy_on_pod_conditions_pattern__descriptor,
      "k8s.io.api.batch.v1.PodFailurePolicyOnPodConditionsPattern"),
    D(k8s__io__api__batch__v1__pod_failure_policy_rule__descriptor,
      "k8s.io.api.batch.v1.PodFailurePolicyRule"),
    D(k8s__io__api__batch__v1__success_policy__descriptor, "k8s.io.api.batch.v1.SuccessPolicy"),
    D(k8s__io__api__batch__v1__success_policy_rule__descriptor,
      "k8s.io.api.batch.v1.SuccessPolicyRule"),
    D(k8s__io__api__batch__v1__uncounted_terminated_pods__descriptor,
      "k8s.io.api.batch.v1.UncountedTerminatedPods"),
    /* k8s/api/autoscaling/v1/generated.proto */
    D(k8s__io__api__autoscaling__v1__container_resource_metric_source__descriptor,
      "k8s.io.api.autoscaling.v1.ContainerResourceMetricSource"),
    D(k8s__io__api__autoscaling__v1__container_resource_metric_status__descriptor,
      "k8s.io.api.autoscaling.v1.ContainerResourceMetricStatus"),
    D(k8s__io__api__autoscaling__v1__cross_version_object_reference__descriptor,
      "k8s.io.api.autoscaling.v1.CrossVersionObjectReference"),
    D(k8s__io__api__autoscaling__v1__external_metric_source__descriptor,
      "k8s.io.api.autoscaling.v1.ExternalMetricSource"),
    D(k8s__io__api__autoscaling__v1__external_metric_status__descriptor,
      "k8s.io.api.autoscaling.v1.ExternalMetricStatus"),
    D(k8s__io__api__autoscaling__v1__horizontal_pod_autoscaler__descriptor,
      "k8s.io.api.autoscaling.v1.HorizontalPodAutoscaler"),
    D(k8s__io__api__autoscaling__v1__horizontal_pod_autoscaler_condition__descriptor,
      "k8s.io.api.autoscaling.v1.HorizontalPodAutoscalerCondition"),
    D(k8s__io__api__autoscaling__v1__horizontal_pod_autoscaler_list__descriptor,
      "k8s.io.api.autoscaling.v1.HorizontalPodAutoscalerList"),
    D(k8s__io__api__autoscaling__v1__horizontal_pod_autoscaler_spec__descriptor,
      "k8s.io.api.autoscaling.v1.HorizontalPodAutoscalerSpec"),
    D(k8s__io__api__autoscaling__v1__horizontal_pod_autoscaler_status__descriptor,
      "k8s.io.api.autoscaling.v1.HorizontalPodAutoscalerStatus"),
    D(k8s__io__api__autoscaling__v1__metric_spec__descriptor,
      "k8s.io.api.autoscaling.v1.MetricSpec"),
    D(k8s__io__api__autoscaling__v1__metric_status__descriptor,
      "k8s.io.api.autoscaling.v1.MetricStatus"),
    D(k8s__io__api__autoscaling__v1__object_metric_source__descriptor,
      "k8s.io.api.autoscaling.v1.ObjectMetricSource"),
    D(k8s__io__api__autoscaling__v1__object_metric_status__descriptor,
      "k8s.io.api.autoscaling.v1.ObjectMetricStatus"),
    D(k8s__io__api__autoscaling__v1__pods_metric_source__descriptor,
      "k8s.io.api.autoscaling.v1.PodsMetricSource"),
    D(k8s__io__api__autoscaling__v1__pods_metric_status__descriptor,
      "k8s.io.api.autoscaling.v1.PodsMetricStatus"),
    D(k8s__io__api__autoscaling__v1__resource_metric_source__descriptor,
      "k8s.io.api.autoscaling.v1.ResourceMetricSource"),
    D(k8s__io__api__autoscaling__v1__resource_metric_status__descriptor,
      "k8s.io.api.autoscaling.v1.ResourceMetricStatus"),
    D(k8s__io__api__autoscaling__v1__scale__descriptor, "k8s.io.api.autoscaling.v1.Scale"),
    D(k8s__io__api__autoscaling__v1__scale_spec__descriptor, "k8s.io.api.autoscaling.v1.ScaleSpec"),
    D(k8s__io__api__autoscaling__v1__scale_status__descriptor,
      "k8s.io.api.autoscaling.v1.ScaleStatus"),
    /* k8s/api/autoscaling/v2/generated.proto */
    D(k8s__io__api__autoscaling__v2__container_resource_metric_source__descriptor,
      "k8s.io.api.autoscaling.v2.ContainerResourceMetricSource"),
    D(k8s__io__api__autoscaling__v2__container_resource_metric_status__descriptor,
      "k8s.io.api.autoscaling.v2.ContainerResourceMetricStatus"),
    D(k8s__io__api__autoscaling__v2__cross_version_object_reference__descriptor,
      "k8s.io.api.autoscaling.v2.CrossVersionObjectReference"),
    D(k8s__io__api__autoscaling__v2__external_metric_source__descriptor,
      "k8s.io.api.autoscaling.v2.ExternalMetricSource"),
    D(k8s__io__api__autoscaling__v2__external_metric_status__descriptor,
      "k8s.io.api.autoscaling.v2.ExternalMetricStatus"),
    D(k8s__io__api__autoscaling__v2__hpascaling_policy__descriptor,
      "k8s.io.api.autoscaling.v2.HPAScalingPolicy"),
    D(k8s__io__api__autoscaling__v2__hpascaling_rules__descriptor,
      "k8s.io.api.autoscaling.v2.HPAScalingRules"),
    D(k8s__io__api__autoscaling__v2__horizontal_pod_autoscaler__descriptor,
      "k8s.io.api.autoscaling.v2.HorizontalPodAutoscaler"),
    D(k8s__io__api__autoscaling__v2__horizontal_pod_autoscaler_behavior__descriptor,
      "k8s.io.api.autoscaling.v2.HorizontalPodAutoscalerBehavior"),
    D(k8s__io__api__autoscaling__v2__horizontal_pod_autoscaler_condition__descriptor,
      "k8s.io.api.autoscaling.v2.HorizontalPodAutoscalerCondition"),
    D(k8s__io__api__autoscaling__v2__horizontal_pod_autoscaler_list__descriptor,
      "k8s.io.api.autoscaling.v2.HorizontalPodAutoscalerList"),
    D(k8s__io__api__autoscaling__v2__horizontal_pod_autoscaler_spec__descriptor,
      "k8s.io.api.autoscaling.v2.HorizontalPodAutoscalerSpec"),
    D(k8s__io__api__autoscaling__v2__horizontal_pod_autoscaler_status__descriptor,
      "k8s.io.api.autoscaling.v2.HorizontalPodAutoscalerStatus"),
    D(k8s__io__api__autoscaling__v2__metric_identifier__descriptor,
      "k8s.io.api.autoscaling.v2.MetricIdentifier"),
    D(k8s__io__api__autoscaling__v2__metric_spec__descriptor,
      "k8s.io.api.autoscaling.v2.MetricSpec"),
    D(k8s__io__api__autoscaling__v2__metric_status__descriptor,
      "k8s.io.api.autoscaling.v2.MetricStatus"),
    D(k8s__io__api__autoscaling__v2__metric_target__descriptor,
      "k8s.io.api.autoscaling.v2.MetricTarget"),
    D(k8s__io__api__autoscaling__v2__metric_value_status__descriptor,
      "k8s.io.api.autoscaling.v2.MetricValueStatus"),
    D(k8s__io__api__autoscaling__v2__object_metric_source__descriptor,
      "k8s.io.api.autoscaling.v2.ObjectMetricSource"),
    D(k8s__io__api__autoscaling__v2__object_metric_status__descriptor,
      "k8s.io.api.autoscaling.v2.ObjectMetricStatus"),
    D(k8s__io__api__autoscaling__v2__pods_metric_source__descriptor,
      "k8s.io.api.autoscaling.v2.PodsMetricSource"),
    D(k8s__io__api__autoscaling__v2__pods_metric_status__descriptor,
      "k8s.io.api.autoscaling.v2.PodsMetricStatus"),
    D(k8s__io__api__autoscaling__v2__resource_metric_source__descriptor,
      "k8s.io.api.autoscaling.v2.ResourceMetricSource"),
    D(k8s__io__api__autoscaling__v2__resource_metric_status__descriptor,
      "k8s.io.api.autoscaling.v2.ResourceMetricStatus"),
    /* k8s/api/coordination/v1/generated.proto */
    D(k8s__io__api__coordination__v1__lease__descriptor, "k8s.io.api.coordination.v1.Lease"),
    D(k8s__io__api__coordination__v1__lease_list__descriptor,
      "k8s.io.api.coordination.v1.LeaseList"),
    D(k8s__io__api__coordination__v1__lease_spec__descriptor,
      "k8s.io.api.coordination.v1.LeaseSpec"),
    /* k8s/api/discovery/v1/generated.proto */
    D(k8s__io__api__discovery__v1__endpoint__descriptor, "k8s.io.api.discovery.v1.Endpoint"),
    D(k8s__io__api__discovery__v1__endpoint_conditions__descriptor,
      "k8s.io.api.discovery.v1.EndpointConditions"),
    D(k8s__io__api__discovery__v1__endpoint_hints__descriptor,
      "k8s.io.api.discovery.v1.EndpointHints"),
    D(k8s__io__api__discovery__v1__endpoint_port__descriptor,
      "k8s.io.api.discovery.v1.EndpointPort"),
    D(k8s__io__api__discovery__v1__endpoint_slice__descriptor,
      "k8s.io.api.discovery.v1.EndpointSlice"),
    D(k8s__io__api__discovery__v1__endpoint_slice_list__descriptor,
      "k8s.io.api.discovery.v1.EndpointSliceList"),
    D(k8s__io__api__discovery__v1__for_zone__descriptor, "k8s.io.api.discovery.v1.ForZone"),
    /* k8s/api/policy/v1/generated.proto */
    D(k8s__io__api__policy__v1__eviction__descriptor, "k8s.io.api.policy.v1.Eviction"),
    D(k8s__io__api__policy__v1__pod_disruption_budget__descriptor,
      "k8s.io.api.policy.v1.PodDisruptionBudget"),
    D(k8s__io__api__policy__v1__pod_disruption_budget_list__descriptor,
      "k8s.io.api.policy.v1.PodDisruptionBudgetList"),
    D(k8s__io__api__policy__v1__pod_disruption_budget_spec__descriptor,
      "k8s.io.api.policy.v1.PodDisruptionBudgetSpec"),
    D(k8s__io__api__policy__v1__pod_disruption_budget_status__descriptor,
      "k8s.io.api.policy.v1.PodDisruptionBudgetStatus"),
    /* k8s/api/rbac/v1/generated.proto */
    D(k8s__io__api__rbac__v1__aggregation_rule__descriptor, "k8s.io.api.rbac.v1.AggregationRule"),
    D(k8s__io__api__rbac__v1__cluster_role__descriptor, "k8s.io.api.rbac.v1.ClusterRole"),
    D(k8s__io__api__rbac__v1__cluster_role_binding__descriptor,
      "k8s.io.api.rbac.v1.ClusterRoleBinding"),
    D(k8s__io__api__rbac__v1__cluster_role_binding_list__descriptor,
      "k8s.io.api.rbac.v1.ClusterRoleBindingList"),
    D(k8s__io__api__rbac__v1__cluster_role_list__descriptor, "k8s.io.api.rbac.v1.ClusterRoleList"),
    D(k8s__io__api__rbac__v1__policy_rule__descriptor, "k8s.io.api.rbac.v1.PolicyRule"),
    D(k8s__io__api__rbac__v1__role__descriptor, "k8s.io.api.rbac.v1.Role"),
    D(k8s__io__api__rbac__v1__role_binding__descriptor, "k8s.io.api.rbac.v1.RoleBinding"),
    D(k8s__io__api__rbac__v1__role_binding_list__descriptor, "k8s.io.api.rbac.v1.RoleBindingList"),
    D(k8s__io__api__rbac__v1__role_list__descriptor, "k8s.io.api.rbac.v1.RoleList"),
    D(k8s__io__api__rbac__v1__role_ref__descriptor, "k8s.io.api.rbac.v1.RoleRef"),
    D(k8s__io__api__rbac__v1__subject__descriptor, "k8s.io.api.rbac.v1.Subject"),
    /* k8s/api/networking/v1/generated.proto */
    D(k8s__io__api__networking__v1__httpingress_path__descriptor,
      "k8s.io.api.networking.v1.HTTPIngressPath"),
    D(k8s__io__api__networking__v1__httpingress_rule_value__descriptor,
      "k8s.io.api.networking.v1.HTTPIngressRuleValue"),
    D(k8s__io__api__networking__v1__ipblock__descriptor, "k8s.io.api.networking.v1.IPBlock"),
    D(k8s__io__api__networking__v1__ingress__descriptor, "k8s.io.api.networking.v1.Ingress"),
    D(k8s__io__api__networking__v1__ingress_backend__descriptor,
      "k8s.io.api.networking.v1.IngressBackend"),
    D(k8s__io__api__networking__v1__ingress_class__descriptor,
      "k8s.io.api.networking.v1.IngressClass"),
    D(k8s__io__api__networking__v1__ingress_class_list__descriptor,
      "k8s.io.api.networking.v1.IngressClassList"),
    D(k8s__io__api__networking__v1__ingress_class_parameters_reference__descriptor,
      "k8s.io.api.networking.v1.IngressClassParametersReference"),
    D(k8s__io__api__networking__v1__ingress_class_spec__descriptor,
      "k8s.io.api.networking.v1.IngressClassSpec"),
    D(k8s__io__api__networking__v1__ingress_list__descriptor,
      "k8s.io.api.networking.v1.IngressList"),
    D(k8s__io__api__networking__v1__ingress_load_balancer_ingress__descriptor,
      "k8s.io.api.networking.v1.IngressLoadBalancerIngress"),
    D(k8s__io__api__networking__v1__ingress_load_balancer_status__descriptor,
      "k8s.io.api.networking.v1.IngressLoadBalancerStatus"),
    D(k8s__io__api__networking__v1__ingress_port_status__descriptor,
      "k8s.io.api.networking.v1.IngressPortStatus"),
    D(k8s__io__api__networking__v1__ingress_rule__descriptor,
      "k8s.io.api.networking.v1.IngressRule"),
    D(k8s__io__api__networking__v1__ingress_rule_value__descriptor,
      "k8s.io.api.networking.v1.IngressRuleValue"),
    D(k8s__io__api__networking__v1__ingress_service_backend__descriptor,
      "k8s.io.api.networking.v1.IngressServiceBackend"),
    D(k8s__io__api__networking__v1__ingress_spec__descriptor,
      "k8s.io.api.networking.v1.IngressSpec"),
    D(k8s__io__api__networking__v1__ingress_status__descriptor,
      "k8s.io.api.networking.v1.IngressStatus"),
    D(k8s__io__api__networking__v1__ingress_tls__descriptor, "k8s.io.api.networking.v1.IngressTLS"),
    D(k8s__io__api__networking__v1__network_policy__descriptor,
      "k8s.io.api.networking.v1.NetworkPolicy"),
    D(k8s__io__api__networking__v1__network_policy_egress_rule__descriptor,
      "k8s.io.api.networking.v1.NetworkPolicyEgressRule"),
    D(k8s__io__api__networking__v1__network_policy_ingress_rule__descriptor,
      "k8s.io.api.networking.v1.NetworkPolicyIngressRule"),
    D(k8s__io__api__networking__v1__network_policy_list__descriptor,
      "k8s.io.api.networking.v1.NetworkPolicyList"),
    D(k8s__io__api__networking__v1__network_policy_peer__descriptor,
      "k8s.io.api.networking.v1.NetworkPolicyPeer"),
    D(k8s__io__api__networking__v1__network_policy_port__descriptor,
      "k8s.io.api.networking.v1.NetworkPolicyPort"),
    D(k8s__io__api__networking__v1__network_policy_spec__descriptor,
      "k8s.io.api.networking.v1.NetworkPolicySpec"),
    D(k8s__io__api__networking__v1__service_backend_port__descriptor,
      "k8s.io.api.networking.v1.ServiceBackendPort"),
    /* k8s/api/scheduling/v1/generated.proto */
    D(k8s__io__api__scheduling__v1__priority_class__descriptor,
      "k8s.io.api.scheduling.v1.PriorityClass"),
    D(k8s__io__api__scheduling__v1__priority_class_list__descriptor,
      "k8s.io.api.scheduling.v1.PriorityClassList"),
    /* k8s/api/events/v1/generated.proto */
    D(k8s__io__api__events__v1__event__descriptor, "k8s.io.api.events.v1.Event"),
    D(k8s__io__api__events__v1__event_list__descriptor, "k8s.io.api.events.v1.EventList"),
    D(k8s__io__api__events__v1__event_series__descriptor, "k8s.io.api.events.v1.EventSeries"),
    /* k8s/api/storage/v1/generated.proto */
    D(k8s__io__api__storage__v1__csidriver__descriptor, "k8s.io.api.storage.v1.CSIDriver"),
    D(k8s__io__api__storage__v1__csidriver_list__descriptor, "k8s.io.api.storage.v1.CSIDriverList"),
    D(k8s__io__api__storage__v1__csidriver_spec__descriptor, "k8s.io.api.storage.v1.CSIDriverSpec"),
    D(k8s__io__api__storage__v1__csinode__descriptor, "k8s.io.api.storage.v1.CSINode"),
    D(k8s__io__api__storage__v1__csinode_driver__descriptor, "k8s.io.api.storage.v1.CSINodeDriver"),
    D(k8s__io__api__storage__v1__csinode_list__descriptor, "k8s.io.api.storage.v1.CSINodeList"),
    D(k8s__io__api__storage__v1__csinode_spec__descriptor, "k8s.io.api.storage.v1.CSINodeSpec"),
    D(k8s__io__api__storage__v1__csistorage_capacity__descriptor,
      "k8s.io.api.storage.v1.CSIStorageCapacity"),
    D(k8s__io__api__storage__v1__csistorage_capacity_list__descriptor,
      "k8s.io.api.storage.v1.CSIStorageCapacityList"),
    D(k8s__io__api__storage__v1__storage_class__descriptor, "k8s.io.api.storage.v1.StorageClass"),
    D(k8s__io__api__storage__v1__storage_class_list__descriptor,
      "k8s.io.api.storage.v1.StorageClassList"),
    D(k8s__io__api__storage__v1__token_request__descriptor, "k8s.io.api.storage.v1.TokenRequest"),
    D(k8s__io__api__storage__v1__volume_attachment__descriptor,
      "k8s.io.api.storage.v1.VolumeAttachment"),
    D(k8s__io__api__storage__v1__volume_attachment_list__descriptor,
      "k8s.io.api.storage.v1.VolumeAttachmentList"),
    D(k8s__io__api__storage__v1__volume_attachment_source__descriptor,
      "k8s.io.api.storage.v1.VolumeAttachmentSource"),
    D(k8s__io__api__storage__v1__volume_attachment_spec__descriptor,
      "k8s.io.api.storage.v1.VolumeAttachmentSpec"),
    D(k8s__io__api__storage__v1__volume_attachment_status__descriptor,
      "k8s.io.api.storage.v1.VolumeAttachmentStatus"),
    D(k8s__io__api__storage__v1__volume_error__descriptor, "k8s.io.api.storage.v1.VolumeError"),
    D(k8s__io__api__storage__v1__volume_node_resources__descriptor,
      "k8s.io.api.storage.v1.VolumeNodeResources"),
    /* k8s/api/authentication/v1/generated.proto */
    D(k8s__io__api__authentication__v1__bound_object_reference__descriptor,
      "k8s.io.api.authentication.v1.BoundObjectReference"),
    D(k8s__io__api__authentication__v1__extra_value__descriptor,
      "k8s.io.api.authentication.v1.ExtraValue"),
    D(k8s__io__api__authentication__v1__self_subject_review__descriptor,
      "k8s.io.api.authentication.v1.SelfSubjectReview"),
    D(k8s__io__api__authentication__v1__self_subject_review_status__descriptor,
      "k8s.io.api.authentication.v1.SelfSubjectReviewStatus"),
    D(k8s__io__api__authentication__v1__token_request__descriptor,
      "k8s.io.api.authentication.v1.TokenRequest"),
    D(k8s__io__api__authentication__v1__token_request_spec__descriptor,
      "k8s.io.api.authentication.v1.TokenRequestSpec"),
    D(k8s__io__api__authentication__v1__token_request_status__descriptor,
      "k8s.io.api.authentication.v1.TokenRequestStatus"),
    D(k8s__io__api__authentication__v1__token_review__descriptor,
      "k8s.io.api.authentication.v1.TokenReview"),
    D(k8s__io__api__authentication__v1__token_review_spec__descriptor,
      "k8s.io.api.authentication.v1.TokenReviewSpec"),
    D(k8s__io__api__authentication__v1__token_review_status__descriptor,
      "k8s.io.api.authentication.v1.TokenReviewStatus"),
    D(k8s__io__api__authentication__v1__user_info__descriptor,
      "k8s.io.api.authentication.v1.UserInfo"),
    /* k8s/api/authorization/v1/generated.proto */
    D(k8s__io__api__authorization__v1__extra_value__descriptor,
      "k8s.io.api.authorization.v1.ExtraValue"),
    D(k8s__io__api__authorization__v1__field_selector_attributes__descriptor,
      "k8s.io.api.authorization.v1.FieldSelectorAttributes"),
    D(k8s__io__api__authorization__v1__label_selector_attributes__descriptor,
      "k8s.io.api.authorization.v1.LabelSelectorAttributes"),
    D(k8s__io__api__authorization__v1__local_subject_access_review__descriptor,
      "k8s.io.api.authorization.v1.LocalSubjectAccessReview"),
    D(k8s__io__api__authorization__v1__non_resource_attributes__descriptor,
      "k8s.io.api.authorization.v1.NonResourceAttributes"),
    D(k8s__io__api__authorization__v1__non_resource_rule__descriptor,
      "k8s.io.api.authorization.v1.NonResourceRule"),
    D(k8s__io__api__authorization__v1__resource_attributes__descriptor,
      "k8s.io.api.authorization.v1.ResourceAttributes"),
    D(k8s__io__api__authorization__v1__resource_rule__descriptor,
      "k8s.io.api.authorization.v1.ResourceRule"),
    D(k8s__io__api__authorization__v1__self_subject_access_review__descriptor,
      "k8s.io.api.authorization.v1.SelfSubjectAccessReview"),
    D(k8s__io__api__authorization__v1__self_subject_access_review_spec__descriptor,
      "k8s.io.api.authorization.v1.SelfSubjectAccessReviewSpec"),
    D(k8s__io__api__authorization__v1__self_subject_rules_review__descriptor,
      "k8s.io.api.authorization.v1.SelfSubjectRulesReview"),
    D(k8s__io__api__authorization__v1__self_subject_rules_review_spec__descriptor,
      "k8s.io.api.authorization.v1.SelfSubjectRulesReviewSpec"),
    D(k8s__io__api__authorization__v1__subject_access_review__descriptor,
      "k8s.io.api.authorization.v1.SubjectAccessReview"),
    D(k8s__io__api__authorization__v1__subject_access_review_spec__descriptor,
      "k8s.io.api.authorization.v1.SubjectAccessReviewSpec"),
    D(k8s__io__api__authorization__v1__subject_access_review_status__descriptor,
      "k8s.io.api.authorization.v1.SubjectAccessReviewStatus"),
    D(k8s__io__api__authorization__v1__subject_rules_review_status__descriptor,
      "k8s.io.api.authorization.v1.SubjectRulesReviewStatus"),
    /* k8s/api/apidiscovery/v2/generated.proto */
    D(k8s__io__api__apidiscovery__v2__apigroup_discovery__descriptor,
      "k8s.io.api.apidiscovery.v2.APIGroupDiscovery"),
    D(k8s__io__api__apidiscovery__v2__apigroup_discovery_list__descriptor,
      "k8s.io.api.apidiscovery.v2.APIGroupDiscoveryList"),
    D(k8s__io__api__apidiscovery__v2__apiresource_discovery__descriptor,
      "k8s.io.api.apidiscovery.v2.APIResourceDiscovery"),
    D(k8s__io__api__apidiscovery__v2__apisubresource_discovery__descriptor,
      "k8s.io.api.apidiscovery.v2.APISubresourceDiscovery"),
    D(k8s__io__api__apidiscovery__v2__apiversion_discovery__descriptor,
      "k8s.io.api.apidiscovery.v2.APIVersionDiscovery"),
    /* k8s/api/admissionregistration/v1/generated.proto */
    D(k8s__io__api__admissionregistration__v1__audit_annotation__descriptor,
      "k8s.io.api.admissionregistration.v1.AuditAnnotation"),
    D(k8s__io__api__admissionregistration__v1__expression_warning__descriptor,
      "k8s.io.api.admissionregistration.v1.ExpressionWarning"),
    D(k8s__io__api__admissionregistration__v1__match_condition__descriptor,
      "k8s.io.api.admissionregistration.v1.MatchCondition"),
    D(k8s__io__api__admissionregistration__v1__match_resources__descriptor,
      "k8s.io.api.admissionregistration.v1.MatchResources"),
    D(k8s__io__api__admissionregistration__v1__mutating_webhook__descriptor,
      "k8s.io.api.admissionregistration.v1.MutatingWebhook"),
    D(k8s__io__api__admissionregistration__v1__mutating_webhook_configuration__descriptor,
      "k8s.io.api.admissionregistration.v1.MutatingWebhookConfiguration"),
    D(k8s__io__api__admissionregistration__v1__mutating_webhook_configuration_list__descriptor,
      "k8s.io.api.admissionregistration.v1.MutatingWebhookConfigurationList"),
    D(k8s__io__api__admissionregistration__v1__named_rule_with_operations__descriptor,
      "k8s.io.api.admissionregistration.v1.NamedRuleWithOperations"),
    D(k8s__io__api__admissionregistration__v1__param_kind__descriptor,
      "k8s.io.api.admissionregistration.v1.ParamKind"),
    D(k8s__io__api__admissionregistration__v1__param_ref__descriptor,
      "k8s.io.api.admissionregistration.v1.ParamRef"),
    D(k8s__io__api__admissionregistration__v1__rule__descriptor,
      "k8s.io.api.admissionregistration.v1.Rule"),
    D(k8s__io__api__admissionregistration__v1__rule_with_operations__descriptor,
      "k8s.io.api.admissionregistration.v1.RuleWithOperations"),
    D(k8s__io__api__admissionregistration__v1__service_reference__descriptor,
      "k8s.io.api.admissionregistration.v1.ServiceReference"),
    D(k8s__io__api__admissionregistration__v1__type_checking__descriptor,
      "k8s.io.api.admissionregistration.v1.TypeChecking"),
    D(k8s__io__api__admissionregistration__v1__validating_admission_policy__descriptor,
      "k8s.io.api.admissionregistration.v1.ValidatingAdmissionPolicy"),
    D(k8s__io__api__admissionregistration__v1__validating_admission_policy_binding__descriptor,
      "k8s.io.api.admissionregistration.v1.ValidatingAdmissionPolicyBinding"),
    D(k8s__io__api__admissionregistration__v1__validating_admission_policy_binding_list__descriptor,
      "k8s.io.api.admissionregistration.v1."
      "ValidatingAdmissionPolicyBindingList"),
    D(k8s__io__api__admissionregistration__v1__validating_admission_policy_binding_spec__descriptor,
      "k8s.io.api.admissionregistration.v1."
      "ValidatingAdmissionPolicyBindingSpec"),
    D(k8s__io__api__admissionregistration__v1__validating_admission_policy_list__descriptor,
      "k8s.io.api.admissionregistration.v1.ValidatingAdmissionPolicyList"),
    D(k8s__io__api__admissionregistration__v1__validating_admission_policy_spec__descriptor,
      "k8s.io.api.admissionregistration.v1.ValidatingAdmissionPolicySpec"),
    D(k8s__io__api__admissionregistration__v1__validating_admission_policy_status__descriptor,
      "k8s.io.api.admissionregistration.v1.ValidatingAdmissionPolicyStatus"),
    D(k8s__io__api__admissionregistration__v1__validating_webhook__descriptor,
      "k8s.io.api.admissionregistration.v1.ValidatingWebhook"),
    D(k8s__io__api__admissionregistration__v1__validating_webhook_configuration__descriptor,
      "k8s.io.api.admissionregistration.v1.ValidatingWebhookConfiguration"),
    D(k8s__io__api__admissionregistration__v1__validating_webhook_configuration_list__descriptor,
      "k8s.io.api.admissionregistration.v1.ValidatingWebhookConfigurationList"),
    D(k8s__io__api__admissionregistration__v1__validation__descriptor,
      "k8s.io.api.admissionregistration.v1.Validation"),
    D(k8s__io__api__admissionregistration__v1__variable__descriptor,
      "k8s.io.api.admissionregistration.v1.Variable"),
    D(k8s__io__api__admissionregistration__v1__webhook_client_config__descriptor,
      "k8s.io.api.admissionregistration.v1.WebhookClientConfig"),
    /* k8s/api/certificates/v1/generated.proto */
    D(k8s__io__api__certificates__v1__certificate_signing_request__descriptor,
      "k8s.io.api.certificates.v1.CertificateSigningRequest"),
    D(k8s__io__api__certificates__v1__certificate_signing_request_condition__descriptor,
      "k8s.io.api.certificates.v1.CertificateSigningRequestCondition"),
    D(k8s__io__api__certificates__v1__certificate_signing_request_list__descriptor,
      "k8s.io.api.certificates.v1.CertificateSigningRequestList"),
    D(k8s__io__api__certificates__v1__certificate_signing_request_spec__descriptor,
      "k8s.io.api.certificates.v1.CertificateSigningRequestSpec"),
    D(k8s__io__api__certificates__v1__certificate_signing_request_status__descriptor,
      "k8s.io.api.certificates.v1.CertificateSigningRequestStatus"),
    D(k8s__io__api__certificates__v1__extra_value__descriptor,
      "k8s.io.api.certificates.v1.ExtraValue"),
    /* k8s/api/flowcontrol/v1/generated.proto */
    D(k8s__io__api__flowcontrol__v1__exempt_priority_level_configuration__descriptor,
      "k8s.io.api.flowcontrol.v1.ExemptPriorityLevelConfiguration"),
    D(k8s__io__api__flowcontrol__v1__flow_distinguisher_method__descriptor,
      "k8s.io.api.flowcontrol.v1.FlowDistinguisherMethod"),
    D(k8s__io__api__flowcontrol__v1__flow_schema__descriptor,
      "k8s.io.api.flowcontrol.v1.FlowSchema"),
    D(k8s__io__api__flowcontrol__v1__flow_schema_condition__descriptor,
      "k8s.io.api.flowcontrol.v1.FlowSchemaCondition"),
    D(k8s__io__api__flowcontrol__v1__flow_schema_list__descriptor,
      "k8s.io.api.flowcontrol.v1.FlowSchemaList"),
    D(k8s__io__api__flowcontrol__v1__flow_schema_spec__descriptor,
      "k8s.io.api.flowcontrol.v1.FlowSchemaSpec"),
    D(k8s__io__api__flowcontrol__v1__flow_schema_status__descriptor,
      "k8s.io.api.flowcontrol.v1.FlowSchemaStatus"),
    D(k8s__io__api__flowcontrol__v1__group_subject__descriptor,
      "k8s.io.api.flowcontrol.v1.GroupSubject"),
    D(k8s__io__api__flowcontrol__v1__limit_response__descriptor,
      "k8s.io.api.flowcontrol.v1.LimitResponse"),
    D(k8s__io__api__flowcontrol__v1__limited_priority_level_configuration__descriptor,
      "k8s.io.api.flowcontrol.v1.LimitedPriorityLevelConfiguration"),
    D(k8s__io__api__flowcontrol__v1__non_resource_policy_rule__descriptor,
      "k8s.io.api.flowcontrol.v1.NonResourcePolicyRule"),
    D(k8s__io__api__flowcontrol__v1__policy_rules_with_subjects__descriptor,
      "k8s.io.api.flowcontrol.v1.PolicyRulesWithSubjects"),
    D(k8s__io__api__flowcontrol__v1__priority_level_configuration__descriptor,
      "k8s.io.api.flowcontrol.v1.PriorityLevelConfiguration"),
    D(k8s__io__api__flowcontrol__v1__priority_level_configuration_condition__descriptor,
      "k8s.io.api.flowcontrol.v1.PriorityLevelConfigurationCondition"),
    D(k8s__io__api__flowcontrol__v1__priority_level_configuration_list__descriptor,
      "k8s.io.api.flowcontrol.v1.PriorityLevelConfigurationList"),
    D(k8s__io__api__flowcontrol__v1__priority_level_configuration_reference__descriptor,
      "k8s.io.api.flowcontrol.v1.PriorityLevelConfigurationReference"),
    D(k8s__io__api__flowcontrol__v1__priority_level_configuration_spec__descriptor,
      "k8s.io.api.flowcontrol.v1.PriorityLevelConfigurationSpec"),
    D(k8s__io__api__flowcontrol__v1__priority_level_configuration_status__descriptor,
      "k8s.io.api.flowcontrol.v1.PriorityLevelConfigurationStatus"),
    D(k8s__io__api__flowcontrol__v1__queuing_configuration__descriptor,
      "k8s.io.api.flowcontrol.v1.QueuingConfiguration"),
    D(k8s__io__api__flowcontrol__v1__resource_policy_rule__descriptor,
      "k8s.io.api.flowcontrol.v1.ResourcePolicyRule"),
    D(k8s__io__api__flowcontrol__v1__service_account_subject__descriptor,
      "k8s.io.api.flowcontrol.v1.ServiceAccountSubject"),
    D(k8s__io__api__flowcontrol__v1__subject__descriptor, "k8s.io.api.flowcontrol.v1.Subject"),
    D(k8s__io__api__flowcontrol__v1__user_subject__descriptor,
      "k8s.io.api.flowcontrol.v1.UserSubject"),
    /* k8s/api/node/v1/generated.proto */
    D(k8s__io__api__node__v1__overhead__descriptor, "k8s.io.api.node.v1.Overhead"),
    D(k8s__io__api__node__v1__runtime_class__descriptor, "k8s.io.api.node.v1.RuntimeClass"),
    D(k8s__io__api__node__v1__runtime_class_list__descriptor,
      "k8s.io.api.node.v1.RuntimeClassList"),
    D(k8s__io__api__node__v1__scheduling__descriptor, "k8s.io.api.node.v1.Scheduling"),
    /* k8s/apimachinery/pkg/apis/meta/v1/k8c_table.proto */
    D(k8s__io__apimachinery__pkg__apis__meta__v1__table__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.Table"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__table_column_definition__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.TableColumnDefinition"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__table_row__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.TableRow"),
    D(k8s__io__apimachinery__pkg__apis__meta__v1__table_row_condition__descriptor,
      "k8s.io.apimachinery.pkg.apis.meta.v1.TableRowCondition"),
};

#undef D

#define N_MESSAGES (sizeof(all_messages) / sizeof(all_messages[0]))

/* Finds a message descriptor by the full name the descriptor itself carries;
 * NULL if absent. */
static const ProtobufCMessageDescriptor *lookup(const char *full_name)
{
    for (size_t i = 0; i < N_MESSAGES; i++) {
        if (strcmp(all_messages[i].desc->name, full_name) == 0)
            return all_messages[i].desc;
    }
    return NULL;
}

static void test_descriptor_names(void **state)
{
    (void)state;
    assert_int_equal(N_MESSAGES, 548);
    for (size_t i = 0; i < N_MESSAGES; i++) {
        const ProtobufCMessageDescriptor *d = all_messages[i].desc;
        assert_int_equal(d->magic, PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC);
        assert_string_equal(d->name, all_messages[i].name);
        /* the short name is the part after the package */
        size_t plen = strlen(d->package_name);
        assert_int_equal(strncmp(d->name, d->package_name, plen), 0);
        assert_int_equal(d->name[plen], '.');
        assert_string_equal(d->short_name, d->name + plen + 1);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(all_messages[j].desc->name, d->name);
    }
}

struct pkg_totals {
    const char *package;
    unsigned messages;
    unsigned fields;
};

/* Upstream v0.32.13 totals (meta/v1 adds the 4 k8c-local Table messages with 15
 * fields). */
static const struct pkg_totals expected_totals[] = {
    {"k8s.io.apimachinery.pkg.api.resource", 2, 2},
    {"k8s.io.apimachinery.pkg.runtime", 3, 7},
    {"k8s.io.apimachinery.pkg.runtime.schema", 0, 0},
    {"k8s.io.apimachinery.pkg.util.intstr", 1, 3},
    {"k8s.io.apimachinery.pkg.apis.meta.v1", 45 + 4, 148 + 15},
    {"k8s.io.apimachinery.pkg.apis.meta.v1beta1", 1, 2},
    {"k8s.io.api.core.v1", 230, 955},
    {"k8s.io.api.apps.v1", 30, 123},
    {"k8s.io.api.batch.v1", 17, 70},
    {"k8s.io.api.autoscaling.v1", 21, 78},
    {"k8s.io.api.autoscaling.v2", 24, 77},
    {"k8s.io.api.coordination.v1", 3, 11},
    {"k8s.io.api.discovery.v1", 7, 23},
    {"k8s.io.api.policy.v1", 5, 18},
    {"k8s.io.api.rbac.v1", 12, 32},
    {"k8s.io.api.networking.v1", 27, 63},
    {"k8s.io.api.scheduling.v1", 2, 7},
    {"k8s.io.api.events.v1", 3, 19},
    {"k8s.io.api.storage.v1", 19, 57},
    {"k8s.io.api.authentication.v1", 11, 29},
    {"k8s.io.api.authorization.v1", 16, 51},
    {"k8s.io.api.apidiscovery.v2", 5, 19},
    {"k8s.io.api.admissionregistration.v1", 27, 93},
    {"k8s.io.api.certificates.v1", 6, 22},
    {"k8s.io.api.flowcontrol.v1", 23, 60},
    {"k8s.io.api.node.v1", 4, 9},
};

static void test_package_totals(void **state)
{
    (void)state;
    size_t seen = 0;
    for (size_t p = 0; p < sizeof(expected_totals) / sizeof(expected_totals[0]); p++) {
        unsigned msgs = 0, fields = 0;
        for (size_t i = 0; i < N_MESSAGES; i++) {
            if (strcmp(all_messages[i].desc->package_name, expected_totals[p].package) == 0) {
                msgs++;
                fields += all_messages[i].desc->n_fields;
            }
        }
        if (msgs != expected_totals[p].messages || fields != expected_totals[p].fields)
            fail_msg("%s: %u messages %u fields, want %u and %u", expected_totals[p].package, msgs,
                     fields, expected_totals[p].messages, expected_totals[p].fields);
        seen += msgs;
    }
    assert_int_equal(seen, N_MESSAGES);
}

/* Messages the rest of k8c names directly; each must resolve through lookup().
 */
static const char *const required_messages[] = {
    "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
    "k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta",
    "k8s.io.apimachinery.pkg.apis.meta.v1.TypeMeta",
    "k8s.io.apimachinery.pkg.apis.meta.v1.Time",
    "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime",
    "k8s.io.apimachinery.pkg.apis.meta.v1.Duration",
    "k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector",
    "k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement",
    "k8s.io.apimachinery.pkg.apis.meta.v1.OwnerReference",
    "k8s.io.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry",
    "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1",
    "k8s.io.apimachinery.pkg.apis.meta.v1.Status",
    "k8s.io.apimachinery.pkg.apis.meta.v1.StatusDetails",
    "k8s.io.apimachinery.pkg.apis.meta.v1.StatusCause",
    "k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    "k8s.io.apimachinery.pkg.apis.meta.v1.Preconditions",
    "k8s.io.apimachinery.pkg.apis.meta.v1.WatchEvent",
    "k8s.io.apimachinery.pkg.apis.meta.v1.List",
    "k8s.io.apimachinery.pkg.apis.meta.v1.APIResource",
    "k8s.io.apimachinery.pkg.apis.meta.v1.APIResourceList",
    "k8s.io.apimachinery.pkg.apis.meta.v1.APIGroup",
    "k8s.io.apimachinery.pkg.apis.meta.v1.APIGroupList",
    "k8s.io.apimachinery.pkg.apis.meta.v1.APIVersions",
    "k8s.io.apimachinery.pkg.apis.meta.v1.Table",
    "k8s.io.apimachinery.pkg.apis.meta.v1.TableRow",
    "k8s.io.apimachinery.pkg.apis.meta.v1.TableColumnDefinition",
    "k8s.io.apimachinery.pkg.apis.meta.v1.PartialObjectMetadata",
    "k8s.io.apimachinery.pkg.apis.meta.v1.PartialObjectMetadataList",
    "k8s.io.apimachinery.pkg.runtime.Unknown",
    "k8s.io.apimachinery.pkg.runtime.RawExtension",
    "k8s.io.apimachinery.pkg.runtime.TypeMeta",
    "k8s.io.apimachinery.pkg.api.resource.Quantity",
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString",
    "k8s.io.api.core.v1.Pod",
    "k8s.io.api.core.v1.PodList",
    "k8s.io.api.core.v1.Node",
    "k8s.io.api.core.v1.Service",
    "k8s.io.api.core.v1.Endpoints",
    "k8s.io.api.core.v1.Namespace",
    "k8s.io.api.core.v1.ConfigMap",
    "k8s.io.api.core.v1.Secret",
    "k8s.io.api.core.v1.ServiceAccount",
    "k8s.io.api.core.v1.Event",
    "k8s.io.api.core.v1.Binding",
    "k8s.io.api.core.v1.PersistentVolumeClaim",
    "k8s.io.api.apps.v1.Deployment",
    "k8s.io.api.apps.v1.ReplicaSet",
    "k8s.io.api.apps.v1.StatefulSet",
    "k8s.io.api.apps.v1.DaemonSet",
    "k8s.io.api.apps.v1.ControllerRevision",
    "k8s.io.api.batch.v1.Job",
    "k8s.io.api.batch.v1.CronJob",
    "k8s.io.api.autoscaling.v1.Scale",
    "k8s.io.api.autoscaling.v1.HorizontalPodAutoscaler",
    "k8s.io.api.autoscaling.v2.HorizontalPodAutoscaler",
    "k8s.io.api.coordination.v1.Lease",
    "k8s.io.api.discovery.v1.EndpointSlice",
    "k8s.io.api.policy.v1.PodDisruptionBudget",
    "k8s.io.api.policy.v1.Eviction",
    "k8s.io.api.rbac.v1.Role",
    "k8s.io.api.rbac.v1.ClusterRole",
    "k8s.io.api.rbac.v1.RoleBinding",
    "k8s.io.api.rbac.v1.ClusterRoleBinding",
    "k8s.io.api.networking.v1.NetworkPolicy",
    "k8s.io.api.networking.v1.Ingress",
    "k8s.io.api.networking.v1.IngressClass",
    "k8s.io.api.scheduling.v1.PriorityClass",
    "k8s.io.api.events.v1.Event",
    "k8s.io.api.storage.v1.StorageClass",
    "k8s.io.api.storage.v1.CSINode",
    "k8s.io.api.storage.v1.VolumeAttachment",
    "k8s.io.api.apidiscovery.v2.APIGroupDiscoveryList",
    "k8s.io.api.apidiscovery.v2.APIResourceDiscovery",
    "k8s.io.api.authentication.v1.TokenReview",
    "k8s.io.api.authentication.v1.TokenRequest",
    "k8s.io.api.authorization.v1.SubjectAccessReview",
    "k8s.io.api.authorization.v1.SelfSubjectAccessReview",
};

static void test_required_messages(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(required_messages) / sizeof(required_messages[0]); i++) {
        if (!lookup(required_messages[i]))
            fail_msg("missing message %s", required_messages[i]);
    }
    assert_null(lookup("k8s.io.api.core.v1.NoSuchKind"));
    assert_null(lookup("k8s.io.api.core.v1"));
}

#define OPT     PROTOBUF_C_LABEL_OPTIONAL
#define REP     PROTOBUF_C_LABEL_REPEATED
#define T_STR   PROTOBUF_C_TYPE_STRING
#define T_BYTES PROTOBUF_C_TYPE_BYTES
#define T_I32   PROTOBUF_C_TYPE_INT32
#define T_I64   PROTOBUF_C_TYPE_INT64
#define T_BOOL  PROTOBUF_C_TYPE_BOOL
#define T_MSG   PROTOBUF_C_TYPE_MESSAGE

#define META "k8s.io.apimachinery.pkg.apis.meta.v1."
#define CORE "k8s.io.api.core.v1."

/* Asserts that message msg has field name with the given number, label and
 * type; for message fields, sub names the field's message type. Counts every
 * checked field in checked_fields. */
static unsigned checked_fields;

static void expect_field(const char *msg, const char *name, unsigned id, ProtobufCLabel label,
                         ProtobufCType type, const char *sub)
{
    const ProtobufCMessageDescriptor *d = lookup(msg);
    if (!d)
        fail_msg("missing message %s", msg);
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, name);
    if (!f)
        fail_msg("%s has no field %s", msg, name);
    if (f->id != id || f->label != label || f->type != type)
        fail_msg("%s.%s: id %u label %d type %d, want %u %d %d", msg, name, f->id, (int)f->label,
                 (int)f->type, id, (int)label, (int)type);
    assert_ptr_equal(protobuf_c_message_descriptor_get_field(d, id), f);
    if (sub) {
        assert_int_equal(type, T_MSG);
        assert_string_equal(((const ProtobufCMessageDescriptor *)f->descriptor)->name, sub);
    }
    checked_fields++;
}

/* A map<K,V> field: repeated message <Msg>.<Name>Entry with key=1 and value=2.
 */
static void expect_map(const char *msg, const char *name, unsigned id, ProtobufCType vtype,
                       const char *vsub)
{
    const ProtobufCMessageDescriptor *d = lookup(msg);
    assert_non_null(d);
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, name);
    if (!f)
        fail_msg("%s has no field %s", msg, name);
    assert_int_equal(f->id, id);
    assert_int_equal(f->label, REP);
    assert_int_equal(f->type, T_MSG);
    const ProtobufCMessageDescriptor *e = f->descriptor;
    char want[256];
    snprintf(want, sizeof(want), "%s.%c%sEntry", msg, name[0] - 'a' + 'A', name + 1);
    assert_string_equal(e->name, want);
    assert_int_equal(e->n_fields, 2);
    assert_string_equal(e->fields[0].name, "key");
    assert_int_equal(e->fields[0].id, 1);
    assert_int_equal(e->fields[0].type, T_STR);
    assert_string_equal(e->fields[1].name, "value");
    assert_int_equal(e->fields[1].id, 2);
    assert_int_equal(e->fields[1].type, vtype);
    if (vsub)
        assert_string_equal(((const ProtobufCMessageDescriptor *)e->fields[1].descriptor)->name,
                            vsub);
    checked_fields++;
}

static void test_meta_fields(void **state)
{
    (void)state;
    expect_field(META "ObjectMeta", "name", 1, OPT, T_STR, NULL);
    expect_field(META "ObjectMeta", "generateName", 2, OPT, T_STR, NULL);
    expect_field(META "ObjectMeta", "namespace", 3, OPT, T_STR, NULL);
    expect_field(META "ObjectMeta", "selfLink", 4, OPT, T_STR, NULL);
    expect_field(META "ObjectMeta", "uid", 5, OPT, T_STR, NULL);
    expect_field(META "ObjectMeta", "resourceVersion", 6, OPT, T_STR, NULL);
    expect_field(META "ObjectMeta", "generation", 7, OPT, T_I64, NULL);
    expect_field(META "ObjectMeta", "creationTimestamp", 8, OPT, T_MSG, META "Time");
    expect_field(META "ObjectMeta", "deletionTimestamp", 9, OPT, T_MSG, META "Time");
    expect_field(META "ObjectMeta", "deletionGracePeriodSeconds", 10, OPT, T_I64, NULL);
    expect_map(META "ObjectMeta", "labels", 11, T_STR, NULL);
    expect_map(META "ObjectMeta", "annotations", 12, T_STR, NULL);
    expect_field(META "ObjectMeta", "ownerReferences", 13, REP, T_MSG, META "OwnerReference");
    expect_field(META "ObjectMeta", "finalizers", 14, REP, T_STR, NULL);
    expect_field(META "ObjectMeta", "managedFields", 17, REP, T_MSG, META "ManagedFieldsEntry");
    assert_int_equal(lookup(META "ObjectMeta")->n_fields, 15);
    expect_field(META "ListMeta", "selfLink", 1, OPT, T_STR, NULL);
    expect_field(META "ListMeta", "resourceVersion", 2, OPT, T_STR, NULL);
    expect_field(META "ListMeta", "continue", 3, OPT, T_STR, NULL);
    expect_field(META "ListMeta", "remainingItemCount", 4, OPT, T_I64, NULL);
    expect_field(META "TypeMeta", "kind", 1, OPT, T_STR, NULL);
    expect_field(META "TypeMeta", "apiVersion", 2, OPT, T_STR, NULL);
    expect_field(META "Time", "seconds", 1, OPT, T_I64, NULL);
    expect_field(META "Time", "nanos", 2, OPT, T_I32, NULL);
    expect_field(META "MicroTime", "seconds", 1, OPT, T_I64, NULL);
    expect_field(META "MicroTime", "nanos", 2, OPT, T_I32, NULL);
    expect_field(META "Duration", "duration", 1, OPT, T_I64, NULL);
    expect_field(META "FieldsV1", "Raw", 1, OPT, T_BYTES, NULL);
    expect_field(META "OwnerReference", "apiVersion", 5, OPT, T_STR, NULL);
    expect_field(META "OwnerReference", "kind", 1, OPT, T_STR, NULL);
    expect_field(META "OwnerReference", "name", 3, OPT, T_STR, NULL);
    expect_field(META "OwnerReference", "uid", 4, OPT, T_STR, NULL);
    expect_field(META "OwnerReference", "controller", 6, OPT, T_BOOL, NULL);
    expect_field(META "OwnerReference", "blockOwnerDeletion", 7, OPT, T_BOOL, NULL);
    expect_field(META "ManagedFieldsEntry", "fieldsType", 6, OPT, T_STR, NULL);
    expect_field(META "ManagedFieldsEntry", "fieldsV1", 7, OPT, T_MSG, META "FieldsV1");
    expect_field(META "ManagedFieldsEntry", "subresource", 8, OPT, T_STR, NULL);
    expect_map(META "LabelSelector", "matchLabels", 1, T_STR, NULL);
    expect_field(META "LabelSelector", "matchExpressions", 2, REP, T_MSG,
                 META "LabelSelectorRequirement");
    expect_field(META "Status", "metadata", 1, OPT, T_MSG, META "ListMeta");
    expect_field(META "Status", "status", 2, OPT, T_STR, NULL);
    expect_field(META "Status", "message", 3, OPT, T_STR, NULL);
    expect_field(META "Status", "reason", 4, OPT, T_STR, NULL);
    expect_field(META "Status", "details", 5, OPT, T_MSG, META "StatusDetails");
    expect_field(META "Status", "code", 6, OPT, T_I32, NULL);
    expect_field(META "StatusDetails", "uid", 6, OPT, T_STR, NULL);
    expect_field(META "StatusDetails", "causes", 4, REP, T_MSG, META "StatusCause");
    expect_field(META "StatusDetails", "retryAfterSeconds", 5, OPT, T_I32, NULL);
    expect_field(META "StatusCause", "field", 3, OPT, T_STR, NULL);
    expect_field(META "DeleteOptions", "gracePeriodSeconds", 1, OPT, T_I64, NULL);
    expect_field(META "DeleteOptions", "preconditions", 2, OPT, T_MSG, META "Preconditions");
    expect_field(META "DeleteOptions", "propagationPolicy", 4, OPT, T_STR, NULL);
    expect_field(META "DeleteOptions", "dryRun", 5, REP, T_STR, NULL);
    expect_field(META "Preconditions", "uid", 1, OPT, T_STR, NULL);
    expect_field(META "Preconditions", "resourceVersion", 2, OPT, T_STR, NULL);
    expect_field(META "WatchEvent", "type", 1, OPT, T_STR, NULL);
    expect_field(META "WatchEvent", "object", 2, OPT, T_MSG,
                 "k8s.io.apimachinery.pkg.runtime.RawExtension");
    expect_field(META "List", "metadata", 1, OPT, T_MSG, META "ListMeta");
    expect_field(META "List", "items", 2, REP, T_MSG,
                 "k8s.io.apimachinery.pkg.runtime.RawExtension");
    expect_field(META "APIResource", "singularName", 6, OPT, T_STR, NULL);
    expect_field(META "APIResource", "namespaced", 2, OPT, T_BOOL, NULL);
    expect_field(META "APIResource", "verbs", 4, OPT, T_MSG, META "Verbs");
    expect_field(META "APIResource", "storageVersionHash", 10, OPT, T_STR, NULL);
    expect_field(META "Verbs", "items", 1, REP, T_STR, NULL);
    expect_field(META "APIResourceList", "groupVersion", 1, OPT, T_STR, NULL);
    expect_field(META "APIGroup", "preferredVersion", 3, OPT, T_MSG,
                 META "GroupVersionForDiscovery");
    expect_field(META "PartialObjectMetadataList", "metadata", 1, OPT, T_MSG, META "ListMeta");
    expect_field(META "PartialObjectMetadataList", "items", 2, REP, T_MSG,
                 META "PartialObjectMetadata");
    expect_field("k8s.io.apimachinery.pkg.apis.meta.v1beta1.PartialObjectMetadataList", "items", 1,
                 REP, T_MSG, META "PartialObjectMetadata");
}

static void test_runtime_and_scalars(void **state)
{
    (void)state;
    const char *unk = "k8s.io.apimachinery.pkg.runtime.Unknown";
    expect_field(unk, "typeMeta", 1, OPT, T_MSG, "k8s.io.apimachinery.pkg.runtime.TypeMeta");
    expect_field(unk, "raw", 2, OPT, T_BYTES, NULL);
    expect_field(unk, "contentEncoding", 3, OPT, T_STR, NULL);
    expect_field(unk, "contentType", 4, OPT, T_STR, NULL);
    expect_field("k8s.io.apimachinery.pkg.runtime.TypeMeta", "apiVersion", 1, OPT, T_STR, NULL);
    expect_field("k8s.io.apimachinery.pkg.runtime.TypeMeta", "kind", 2, OPT, T_STR, NULL);
    expect_field("k8s.io.apimachinery.pkg.runtime.RawExtension", "raw", 1, OPT, T_BYTES, NULL);
    expect_field("k8s.io.apimachinery.pkg.api.resource.Quantity", "string", 1, OPT, T_STR, NULL);
    const char *ios = "k8s.io.apimachinery.pkg.util.intstr.IntOrString";
    expect_field(ios, "type", 1, OPT, T_I64, NULL);
    expect_field(ios, "intVal", 2, OPT, T_I32, NULL);
    expect_field(ios, "strVal", 3, OPT, T_STR, NULL);
}

static void test_core_fields(void **state)
{
    (void)state;
    expect_field(CORE "Pod", "metadata", 1, OPT, T_MSG, META "ObjectMeta");
    expect_field(CORE "Pod", "spec", 2, OPT, T_MSG, CORE "PodSpec");
    expect_field(CORE "Pod", "status", 3, OPT, T_MSG, CORE "PodStatus");
    expect_field(CORE "PodList", "metadata", 1, OPT, T_MSG, META "ListMeta");
    expect_field(CORE "PodList", "items", 2, REP, T_MSG, CORE "Pod");
    expect_field(CORE "PodSpec", "volumes", 1, REP, T_MSG, CORE "Volume");
    expect_field(CORE "PodSpec", "containers", 2, REP, T_MSG, CORE "Container");
    expect_field(CORE "PodSpec", "initContainers", 20, REP, T_MSG, CORE "Container");
    expect_field(CORE "PodSpec", "restartPolicy", 3, OPT, T_STR, NULL);
    expect_field(CORE "PodSpec", "terminationGracePeriodSeconds", 4, OPT, T_I64, NULL);
    expect_map(CORE "PodSpec", "nodeSelector", 7, T_STR, NULL);
    expect_field(CORE "PodSpec", "serviceAccountName", 8, OPT, T_STR, NULL);
    expect_field(CORE "PodSpec", "nodeName", 10, OPT, T_STR, NULL);
    expect_field(CORE "PodSpec", "hostNetwork", 11, OPT, T_BOOL, NULL);
    expect_field(CORE "PodSpec", "schedulerName", 19, OPT, T_STR, NULL);
    expect_field(CORE "PodSpec", "tolerations", 22, REP, T_MSG, CORE "Toleration");
    expect_field(CORE "PodSpec", "priority", 25, OPT, T_I32, NULL);
    expect_map(CORE "PodSpec", "overhead", 32, T_MSG,
               "k8s.io.apimachinery.pkg.api.resource.Quantity");
    expect_field(CORE "PodSpec", "resources", 40, OPT, T_MSG, CORE "ResourceRequirements");
    expect_field(CORE "PodStatus", "phase", 1, OPT, T_STR, NULL);
    expect_field(CORE "PodStatus", "conditions", 2, REP, T_MSG, CORE "PodCondition");
    expect_field(CORE "PodStatus", "hostIP", 5, OPT, T_STR, NULL);
    expect_field(CORE "PodStatus", "podIP", 6, OPT, T_STR, NULL);
    expect_field(CORE "PodStatus", "podIPs", 12, REP, T_MSG, CORE "PodIP");
    expect_field(CORE "PodStatus", "startTime", 7, OPT, T_MSG, META "Time");
    expect_field(CORE "PodStatus", "containerStatuses", 8, REP, T_MSG, CORE "ContainerStatus");
    expect_field(CORE "Container", "name", 1, OPT, T_STR, NULL);
    expect_field(CORE "Container", "image", 2, OPT, T_STR, NULL);
    expect_field(CORE "Container", "command", 3, REP, T_STR, NULL);
    expect_field(CORE "Container", "args", 4, REP, T_STR, NULL);
    expect_field(CORE "Container", "ports", 6, REP, T_MSG, CORE "ContainerPort");
    expect_field(CORE "Container", "env", 7, REP, T_MSG, CORE "EnvVar");
    expect_field(CORE "Container", "envFrom", 19, REP, T_MSG, CORE "EnvFromSource");
    expect_field(CORE "Container", "resources", 8, OPT, T_MSG, CORE "ResourceRequirements");
    expect_field(CORE "Container", "imagePullPolicy", 14, OPT, T_STR, NULL);
    expect_field(CORE "Container", "restartPolicy", 24, OPT, T_STR, NULL);
    expect_field(CORE "ContainerPort", "containerPort", 3, OPT, T_I32, NULL);
    expect_field(CORE "Volume", "volumeSource", 2, OPT, T_MSG, CORE "VolumeSource");
    expect_field(CORE "ContainerUser", "linux", 1, OPT, T_MSG, CORE "LinuxContainerUser");
    expect_map(CORE "ResourceRequirements", "limits", 1, T_MSG,
               "k8s.io.apimachinery.pkg.api.resource.Quantity");
    expect_map(CORE "NodeStatus", "capacity", 1, T_MSG,
               "k8s.io.apimachinery.pkg.api.resource.Quantity");
    expect_field(CORE "NodeStatus", "conditions", 4, REP, T_MSG, CORE "NodeCondition");
    expect_field(CORE "NodeStatus", "addresses", 5, REP, T_MSG, CORE "NodeAddress");
    expect_field(CORE "NodeSpec", "podCIDR", 1, OPT, T_STR, NULL);
    expect_field(CORE "NodeSpec", "taints", 5, REP, T_MSG, CORE "Taint");
    expect_field(CORE "ServiceSpec", "ports", 1, REP, T_MSG, CORE "ServicePort");
    expect_field(CORE "ServiceSpec", "clusterIP", 3, OPT, T_STR, NULL);
    expect_field(CORE "ServiceSpec", "clusterIPs", 18, REP, T_STR, NULL);
    expect_field(CORE "ServiceSpec", "type", 4, OPT, T_STR, NULL);
    expect_field(CORE "ServicePort", "targetPort", 4, OPT, T_MSG,
                 "k8s.io.apimachinery.pkg.util.intstr.IntOrString");
    expect_field(CORE "ServicePort", "nodePort", 5, OPT, T_I32, NULL);
    expect_map(CORE "ConfigMap", "data", 2, T_STR, NULL);
    expect_map(CORE "ConfigMap", "binaryData", 3, T_BYTES, NULL);
    expect_map(CORE "Secret", "data", 2, T_BYTES, NULL);
    expect_field(CORE "Secret", "type", 3, OPT, T_STR, NULL);
    expect_field(CORE "Binding", "target", 2, OPT, T_MSG, CORE "ObjectReference");
    expect_field(CORE "Event", "involvedObject", 2, OPT, T_MSG, CORE "ObjectReference");
    expect_field(CORE "Event", "eventTime", 10, OPT, T_MSG, META "MicroTime");
    expect_field(CORE "EndpointSubset", "addresses", 1, REP, T_MSG, CORE "EndpointAddress");
}

static void test_group_fields(void **state)
{
    (void)state;
    const char *apps = "k8s.io.api.apps.v1.";
    char m[128];
#define APPS(x) (snprintf(m, sizeof(m), "%s%s", apps, x), m)
    expect_field(APPS("Deployment"), "metadata", 1, OPT, T_MSG, META "ObjectMeta");
    expect_field(APPS("Deployment"), "spec", 2, OPT, T_MSG, "k8s.io.api.apps.v1.DeploymentSpec");
    expect_field(APPS("Deployment"), "status", 3, OPT, T_MSG,
                 "k8s.io.api.apps.v1.DeploymentStatus");
    expect_field(APPS("DeploymentSpec"), "replicas", 1, OPT, T_I32, NULL);
    expect_field(APPS("DeploymentSpec"), "selector", 2, OPT, T_MSG, META "LabelSelector");
    expect_field(APPS("DeploymentSpec"), "template", 3, OPT, T_MSG, CORE "PodTemplateSpec");
    expect_field(APPS("DeploymentSpec"), "strategy", 4, OPT, T_MSG,
                 "k8s.io.api.apps.v1.DeploymentStrategy");
    expect_field(APPS("DeploymentSpec"), "minReadySeconds", 5, OPT, T_I32, NULL);
    expect_field(APPS("DeploymentSpec"), "revisionHistoryLimit", 6, OPT, T_I32, NULL);
    expect_field(APPS("DeploymentSpec"), "paused", 7, OPT, T_BOOL, NULL);
    expect_field(APPS("DeploymentSpec"), "progressDeadlineSeconds", 9, OPT, T_I32, NULL);
    expect_field(APPS("DeploymentStatus"), "readyReplicas", 7, OPT, T_I32, NULL);
    expect_field(APPS("DeploymentStatus"), "collisionCount", 8, OPT, T_I32, NULL);
    expect_field(APPS("RollingUpdateDeployment"), "maxUnavailable", 1, OPT, T_MSG,
                 "k8s.io.apimachinery.pkg.util.intstr.IntOrString");
    expect_field(APPS("ControllerRevision"), "data", 2, OPT, T_MSG,
                 "k8s.io.apimachinery.pkg.runtime.RawExtension");
    expect_field(APPS("ControllerRevision"), "revision", 3, OPT, T_I64, NULL);
#undef APPS
    expect_field("k8s.io.api.batch.v1.JobSpec", "backoffLimit", 7, OPT, T_I32, NULL);
    expect_field("k8s.io.api.batch.v1.JobSpec", "template", 6, OPT, T_MSG, CORE "PodTemplateSpec");
    expect_field("k8s.io.api.batch.v1.CronJobSpec", "schedule", 1, OPT, T_STR, NULL);
    expect_field("k8s.io.api.batch.v1.CronJobSpec", "timeZone", 8, OPT, T_STR, NULL);
    expect_field("k8s.io.api.coordination.v1.LeaseSpec", "holderIdentity", 1, OPT, T_STR, NULL);
    expect_field("k8s.io.api.coordination.v1.LeaseSpec", "leaseDurationSeconds", 2, OPT, T_I32,
                 NULL);
    expect_field("k8s.io.api.coordination.v1.LeaseSpec", "renewTime", 4, OPT, T_MSG,
                 META "MicroTime");
    expect_field("k8s.io.api.discovery.v1.EndpointSlice", "addressType", 4, OPT, T_STR, NULL);
    expect_field("k8s.io.api.discovery.v1.EndpointSlice", "endpoints", 2, REP, T_MSG,
                 "k8s.io.api.discovery.v1.Endpoint");
    expect_field("k8s.io.api.discovery.v1.Endpoint", "nodeName", 6, OPT, T_STR, NULL);
    expect_field("k8s.io.api.policy.v1.PodDisruptionBudgetSpec", "minAvailable", 1, OPT, T_MSG,
                 "k8s.io.apimachinery.pkg.util.intstr.IntOrString");
    expect_field("k8s.io.api.rbac.v1.PolicyRule", "nonResourceURLs", 5, REP, T_STR, NULL);
    expect_field("k8s.io.api.rbac.v1.RoleBinding", "roleRef", 3, OPT, T_MSG,
                 "k8s.io.api.rbac.v1.RoleRef");
    expect_field("k8s.io.api.networking.v1.IngressClassParametersReference", "aPIGroup", 1, OPT,
                 T_STR, NULL);
    expect_field("k8s.io.api.scheduling.v1.PriorityClass", "value", 2, OPT, T_I32, NULL);
    expect_field("k8s.io.api.events.v1.Event", "eventTime", 2, OPT, T_MSG, META "MicroTime");
    expect_field("k8s.io.api.storage.v1.StorageClass", "provisioner", 2, OPT, T_STR, NULL);
    expect_field("k8s.io.api.apidiscovery.v2.APIResourceDiscovery", "responseKind", 2, OPT, T_MSG,
                 META "GroupVersionKind");
    expect_field("k8s.io.api.apidiscovery.v2.APIVersionDiscovery", "freshness", 3, OPT, T_STR,
                 NULL);
    expect_field("k8s.io.api.authentication.v1.TokenReviewStatus", "error", 3, OPT, T_STR, NULL);
    expect_map("k8s.io.api.authentication.v1.UserInfo", "extra", 4, T_MSG,
               "k8s.io.api.authentication.v1.ExtraValue");
    expect_field("k8s.io.api.authorization.v1.SubjectAccessReviewSpec", "resourceAttributes", 1,
                 OPT, T_MSG, "k8s.io.api.authorization.v1.ResourceAttributes");
    expect_field("k8s.io.api.autoscaling.v1.ScaleSpec", "replicas", 1, OPT, T_I32, NULL);
    expect_field("k8s.io.api.autoscaling.v2.HorizontalPodAutoscalerSpec", "metrics", 4, REP, T_MSG,
                 "k8s.io.api.autoscaling.v2.MetricSpec");
    assert_true(checked_fields >= 40);
}

/* Pod{metadata{name:"x"}, spec{containers[{image:"nginx"}], nodeName:"n1"}}
 * packs to the bytes upstream produces (fields in number order), and unpacks
 * back. */
static void test_pack_pod(void **state)
{
    (void)state;
    K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__ObjectMeta meta =
        K8S__IO__APIMACHINERY__PKG__APIS__META__V1__OBJECT_META__INIT;
    K8s__Io__Api__Core__V1__Container c = K8S__IO__API__CORE__V1__CONTAINER__INIT;
    K8s__Io__Api__Core__V1__Container *cs[1] = {&c};
    K8s__Io__Api__Core__V1__PodSpec spec = K8S__IO__API__CORE__V1__POD_SPEC__INIT;
    K8s__Io__Api__Core__V1__Pod pod = K8S__IO__API__CORE__V1__POD__INIT;
    meta.name = "x";
    c.image = "nginx";
    spec.n_containers = 1;
    spec.containers = cs;
    spec.nodename = "n1";
    pod.metadata = &meta;
    pod.spec = &spec;
    static const uint8_t want[] = {0x0a, 0x03, 0x0a, 0x01, 'x', 0x12, 0x0d, 0x12, 0x07, 0x12,
                                   0x05, 'n',  'g',  'i',  'n', 'x',  0x52, 0x02, 'n',  '1'};
    uint8_t buf[64];
    size_t len = k8s__io__api__core__v1__pod__get_packed_size(&pod);
    assert_int_equal(len, sizeof(want));
    assert_int_equal(k8s__io__api__core__v1__pod__pack(&pod, buf), sizeof(want));
    assert_memory_equal(buf, want, sizeof(want));

    K8s__Io__Api__Core__V1__Pod *back = k8s__io__api__core__v1__pod__unpack(NULL, len, buf);
    assert_non_null(back);
    assert_string_equal(back->metadata->name, "x");
    assert_string_equal(back->spec->nodename, "n1");
    assert_int_equal(back->spec->n_containers, 1);
    assert_string_equal(back->spec->containers[0]->image, "nginx");
    assert_null(back->status);
    k8s__io__api__core__v1__pod__free_unpacked(back, NULL);
}

/* runtime.Unknown as in the "k8s\0" envelope:
 * typeMeta{apiVersion:"v1",kind:"Pod"}, raw, and contentType; an unknown field
 * number survives unpacking as unknown data. */
static void test_pack_unknown(void **state)
{
    (void)state;
    K8s__Io__Apimachinery__Pkg__Runtime__TypeMeta tm =
        K8S__IO__APIMACHINERY__PKG__RUNTIME__TYPE_META__INIT;
    K8s__Io__Apimachinery__Pkg__Runtime__Unknown u =
        K8S__IO__APIMACHINERY__PKG__RUNTIME__UNKNOWN__INIT;
    tm.apiversion = "v1";
    tm.kind = "Pod";
    u.typemeta = &tm;
    u.has_raw = 1;
    u.raw.data = (uint8_t *)"\x0a\x00";
    u.raw.len = 2;
    u.contenttype = "";
    static const uint8_t want[] = {0x0a, 0x09, 0x0a, 0x02, 'v',  '1',  0x12, 0x03, 'P',
                                   'o',  'd',  0x12, 0x02, 0x0a, 0x00, 0x22, 0x00};
    uint8_t buf[64];
    assert_int_equal(k8s__io__apimachinery__pkg__runtime__unknown__get_packed_size(&u),
                     sizeof(want));
    k8s__io__apimachinery__pkg__runtime__unknown__pack(&u, buf);
    assert_memory_equal(buf, want, sizeof(want));

    /* IntOrString{type:1, strVal:"50%"} and Quantity{string:"100m"} */
    K8s__Io__Apimachinery__Pkg__Util__Intstr__IntOrString ios =
        K8S__IO__APIMACHINERY__PKG__UTIL__INTSTR__INT_OR_STRING__INIT;
    ios.has_type = 1;
    ios.type = 1;
    ios.strval = "50%";
    static const uint8_t want_ios[] = {0x08, 0x01, 0x1a, 0x03, '5', '0', '%'};
    assert_int_equal(k8s__io__apimachinery__pkg__util__intstr__int_or_string__pack(&ios, buf),
                     sizeof(want_ios));
    assert_memory_equal(buf, want_ios, sizeof(want_ios));
    K8s__Io__Apimachinery__Pkg__Api__Resource__Quantity q =
        K8S__IO__APIMACHINERY__PKG__API__RESOURCE__QUANTITY__INIT;
    q.string = "100m";
    static const uint8_t want_q[] = {0x0a, 0x04, '1', '0', '0', 'm'};
    assert_int_equal(k8s__io__apimachinery__pkg__api__resource__quantity__pack(&q, buf),
                     sizeof(want_q));
    assert_memory_equal(buf, want_q, sizeof(want_q));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptor_names),    cmocka_unit_test(test_package_totals),
        cmocka_unit_test(test_required_messages),   cmocka_unit_test(test_meta_fields),
        cmocka_unit_test(test_runtime_and_scalars), cmocka_unit_test(test_core_fields),
        cmocka_unit_test(test_group_fields),        cmocka_unit_test(test_pack_pod),
        cmocka_unit_test(test_pack_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
