/**
 * The environment's headers for the tree's remoteproc_virtio.c run from C with the core: the virtio core's
 * device, config operations and virtqueues (include/linux/virtio.h, virtio_config.h, virtio_ring.h,
 * virtio_ids.h), the platform device the core registers for a vdev resource (platform_device.h), and the DMA
 * and reserved-memory calls the rproc-virtio device makes (dma-map-ops.h, of_reserved_mem.h). The environment
 * serves them (src/interp/env/virtio.ts). Written by this project from the interfaces' documentation, never
 * copied from the kernel: a structure has the members the loaded C uses or the environment writes.
 */
import type { SourceFile } from "../lower.ts";

/* include/linux/platform_device.h: a platform device with platform data, registered by name. */
const PLATFORM_DEVICE = String.raw`
struct platform_device *platform_device_register_data(struct device *parent, const char *name, int id,
						      const void *data, size_t size);
void platform_device_unregister(struct platform_device *pdev);
/* A built-in driver registers at its initcall and is never unregistered. */
#define builtin_platform_driver(__driver) \
	module_driver(__driver, platform_driver_register, platform_driver_unregister)
int device_for_each_child(struct device *dev, void *data, int (*fn)(struct device *dev, void *data));
`;

/* include/linux/dma-map-ops.h, dma-direct.h, dma-mapping.h, of_reserved_mem.h. */
const DMA_OPS = `
struct bus_dma_region {
	phys_addr_t cpu_start;
	dma_addr_t dma_start;
	u64 size;
};
struct dma_map_ops;
const struct dma_map_ops *get_dma_ops(struct device *dev);
void set_dma_ops(struct device *dev, const struct dma_map_ops *dma_ops);
u64 dma_get_mask(struct device *dev);
int dma_declare_coherent_memory(struct device *dev, phys_addr_t phys_addr, dma_addr_t device_addr, size_t size);
void dma_release_coherent_memory(struct device *dev);
int of_reserved_mem_device_init_by_idx(struct device *dev, struct device_node *np, int idx);
void of_reserved_mem_device_release(struct device *dev);
#define array_size(a, b) size_mul(a, b)
`;

/* include/linux/virtio.h, virtio_config.h, virtio_ring.h, uapi virtio_ids.h and virtio_config.h. */
const VIRTIO = `
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RPMSG 7
#define VIRTIO_CONFIG_S_ACKNOWLEDGE 1
#define VIRTIO_CONFIG_S_DRIVER 2
#define VIRTIO_CONFIG_S_DRIVER_OK 4
#define VIRTIO_CONFIG_S_FEATURES_OK 8
#define VIRTIO_CONFIG_S_NEEDS_RESET 0x40
#define VIRTIO_CONFIG_S_FAILED 0x80
#define VIRTIO_TRANSPORT_F_START 28
#define VIRTIO_TRANSPORT_F_END 42
#define VIRTIO_F_RING_PACKED 34
struct virtio_device_id {
	__u32 device;
	__u32 vendor;
};
struct virtqueue;
struct virtio_device;
struct irq_affinity;
struct virtqueue_info {
	const char *name;
	void (*callback)(struct virtqueue *vq);
	bool ctx;
};
struct virtio_config_ops {
	void (*get)(struct virtio_device *vdev, unsigned int offset, void *buf, unsigned int len);
	void (*set)(struct virtio_device *vdev, unsigned int offset, const void *buf, unsigned int len);
	u8 (*get_status)(struct virtio_device *vdev);
	void (*set_status)(struct virtio_device *vdev, u8 status);
	void (*reset)(struct virtio_device *vdev);
	int (*find_vqs)(struct virtio_device *vdev, unsigned int nvqs, struct virtqueue *vqs[],
			struct virtqueue_info vqs_info[], struct irq_affinity *desc);
	void (*del_vqs)(struct virtio_device *vdev);
	u64 (*get_features)(struct virtio_device *vdev);
	int (*finalize_features)(struct virtio_device *vdev);
};
struct virtio_device {
	int index;
	bool failed;
	bool config_enabled;
	struct device dev;
	struct virtio_device_id id;
	const struct virtio_config_ops *config;
	struct list_head vqs;
	u64 features;
	void *priv;
};
#define dev_to_virtio(_dev) container_of(_dev, struct virtio_device, dev)
struct virtqueue {
	struct list_head list;
	void (*callback)(struct virtqueue *vq);
	const char *name;
	struct virtio_device *vdev;
	unsigned int index;
	unsigned int num_free;
	unsigned int num_max;
	bool reset;
	void *priv;
};
int register_virtio_device(struct virtio_device *dev);
void unregister_virtio_device(struct virtio_device *dev);
static inline void __virtio_clear_bit(struct virtio_device *vdev, unsigned int fbit)
{
	vdev->features &= ~((u64)1 << fbit);
}
struct virtqueue *vring_new_virtqueue(unsigned int index, unsigned int num, unsigned int vring_align,
				      struct virtio_device *vdev, bool weak_barriers, bool ctx, void *pages,
				      bool (*notify)(struct virtqueue *vq), void (*callback)(struct virtqueue *vq),
				      const char *name);
void vring_del_virtqueue(struct virtqueue *vq);
irqreturn_t vring_interrupt(int irq, void *_vq);
void vring_transport_features(struct virtio_device *vdev);
`;

const file = (name: string, text: string): SourceFile => ({ path: `<env>/include/linux/${name}`, text });

/** The headers of the virtio transport's APIs, loaded after the core's (headers_core.ts). */
export const VIRTIO_HEADERS: readonly SourceFile[] = [
  file("platform_device_data.h", PLATFORM_DEVICE),
  file("dma-map-ops.h", DMA_OPS),
  file("virtio.h", VIRTIO),
];
