/**
 * The vdev resource and its virtio subdevice (drivers/remoteproc/remoteproc_core.c rproc_handle_vdev and
 * drivers/remoteproc/remoteproc_virtio.c): vring carveouts and notifyids written into the table, the
 * rproc-virtio device holding a reference on the rproc, and the virtio device registered at subdevice start
 * (virtio_rpmsg_bus probes then: it sets the status through table_ptr and kicks the remote).
 */
import { rebuildable } from "../fork.ts";
import { EINVAL, ENOMEM, type Kernel, type KObj } from "./kernel.ts";
import {
  FW_RSC_ADDR_ANY,
  ptrRead,
  ptrWrite,
  type Rproc,
  type RprocSubdev,
  rproc_add_carveout,
  rproc_add_subdev,
  rproc_check_carveout_da,
  rproc_find_carveout_by_name,
  rproc_get,
  rproc_put,
  rproc_register_default_carveout,
  rproc_remove_subdev,
  tableRead32,
  tableWrite32,
} from "./remoteproc_core.ts";

const VDEV_HDR = 24;
const VRING_SIZE = 20;
const VIRTIO_CONFIG_S_DRIVER_OK_ALL = 0x0f;

/** struct rproc_vdev (with its rproc-virtio platform device). */
export interface RprocVdev {
  index: number;
  rsc_offset: number;
  notifyids: number[];
  obj: KObj<string>;
  subdev: RprocSubdev;
  /** The virtio device is registered (between subdevice start and stop). */
  registered: boolean;
  /** platform_device_unregister(rvdev->pdev): rproc_virtio_remove. */
  unregister(k: Kernel): Promise<void>;
}

/** vring_size(num, align) rounded up to a page. */
function vringBytes(num: number, align: number): number {
  const desc = 16 * num;
  const avail = 6 + 2 * num;
  const used = 6 + 8 * num;
  const size = Math.ceil((desc + avail) / align) * align + used;
  return Math.ceil(size / 0x1000) * 0x1000;
}

/** models remoteproc_core.c: rproc_handle_vdev() with rproc_parse_vring/rproc_alloc_vring */
export function rproc_handle_vdev(k: Kernel, r: Rproc, offset: number, avail: number): Promise<number> {
  return k.call("core", "rproc_handle_vdev", async () => {
    const at = "rproc_handle_vdev";
    if (avail < VDEV_HDR || r.table_ptr === null) return -EINVAL;
    const hdr = ptrRead(k, r, r.table_ptr, offset, VDEV_HDR, at);
    const nrings = hdr[21] ?? 0;
    const configLen = tableRead32(k, r, offset + 16, at);
    if (VDEV_HDR + nrings * VRING_SIZE + configLen > avail) return -EINVAL;
    const index = r.nb_vdev++;
    k.mightSleep("devm_kzalloc", at);
    const entry: Omit<RprocVdev, "unregister"> = {
      index,
      rsc_offset: offset,
      notifyids: [],
      obj: k.alloc("rvdev", `vdev${index}`, `vdev${index}`, at),
      subdev: { name: `vdev${index}` },
      registered: false,
    };
    const rvdev = entry as RprocVdev;
    // platform_device_unregister(rvdev->pdev) ends in rproc_virtio_remove: a closure over the entry itself.
    rvdev.unregister = rebuildable(
      [r, rvdev] as const,
      (r, rvdev) => (kk: Kernel) => rproc_virtio_remove(kk, r, rvdev),
    );
    for (let i = 0; i < nrings; i++) {
      const v = offset + VDEV_HDR + i * VRING_SIZE;
      const [da, align, num] = [0, 4, 8].map((o) => tableRead32(k, r, v + o, at)) as [number, number, number];
      if (num === 0 || align === 0) {
        k.free(rvdev.obj, at);
        return -EINVAL;
      }
      const size = vringBytes(num, align);
      const name = `vdev${index}vring${i}`;
      const mem = rproc_find_carveout_by_name(r, name);
      if (mem !== undefined) {
        if (rproc_check_carveout_da(mem, da, size)) {
          k.free(rvdev.obj, at);
          return -ENOMEM;
        }
      } else {
        rproc_add_carveout(r, rproc_register_default_carveout(k, name, size, da, at));
      }
      let id = 0;
      while (r.notifyids.has(id)) id++;
      r.notifyids.set(id, rvdev);
      rvdev.notifyids.push(id);
      if (id > r.max_notifyid) r.max_notifyid = id;
      tableWrite32(k, r, v + 12, id, at);
    }
    rvdev.subdev.start = rebuildable(
      [rvdev] as const,
      (rvdev) => (kk: Kernel, rr: Rproc) => rproc_vdev_do_start(kk, rr, rvdev),
    );
    rvdev.subdev.stop = rebuildable(
      [rvdev] as const,
      (rvdev) => (kk: Kernel, rr: Rproc, crashed: boolean) => rproc_vdev_do_stop(kk, rr, rvdev, crashed),
    );
    r.rvdevs.push(rvdev);
    rproc_add_subdev(r, rvdev.subdev);
    rproc_get(r);
    return 0;
  });
}

/** models remoteproc_virtio.c: rproc_vdev_do_start() → rproc_add_virtio_dev() */
function rproc_vdev_do_start(k: Kernel, r: Rproc, rvdev: RprocVdev): Promise<number> {
  return k.call("core", "rproc_vdev_do_start", async () => {
    const at = "rproc_add_virtio_dev";
    if (r.ops.kick === undefined) {
      k.note("core", at, "log", ".kick method not defined");
      return -EINVAL;
    }
    k.mightSleep("register_virtio_device", at);
    rvdev.registered = true;
    // virtio_rpmsg_bus probe: status through the virtio config ops (into table_ptr), then notify the remote.
    if (r.table_ptr !== null)
      ptrWrite(k, r, r.table_ptr, rvdev.rsc_offset + 20, Uint8Array.of(VIRTIO_CONFIG_S_DRIVER_OK_ALL), at);
    await r.ops.kick(k, r, rvdev.notifyids[0] ?? 0);
    return 0;
  });
}

/** models remoteproc_virtio.c: rproc_vdev_do_stop() — unregisters the virtio devices (status reset) */
function rproc_vdev_do_stop(k: Kernel, r: Rproc, rvdev: RprocVdev, _crashed: boolean): Promise<void> {
  return k
    .call("core", "rproc_vdev_do_stop", () => {
      if (rvdev.registered && r.table_ptr !== null) {
        ptrWrite(k, r, r.table_ptr, rvdev.rsc_offset + 20, Uint8Array.of(0), "rproc_virtio_reset");
      }
      rvdev.registered = false;
      return undefined;
    })
    .then(() => undefined);
}

/** models remoteproc_virtio.c: rproc_virtio_remove() with rproc_free_vring() */
function rproc_virtio_remove(k: Kernel, r: Rproc, rvdev: RprocVdev): Promise<void> {
  return k
    .call("core", "rproc_virtio_remove", () => {
      const at = "rproc_free_vring";
      rvdev.notifyids.forEach((id, i) => {
        r.notifyids.delete(id);
        const v = rvdev.rsc_offset + VDEV_HDR + i * VRING_SIZE;
        tableWrite32(k, r, v, 0, at);
        tableWrite32(k, r, v + 12, FW_RSC_ADDR_ANY, at);
      });
      rproc_remove_subdev(r, rvdev.subdev);
      const i = r.rvdevs.indexOf(rvdev);
      if (i >= 0) r.rvdevs.splice(i, 1);
      k.free(rvdev.obj, "rproc_virtio_remove");
      rproc_put(k, r);
      return undefined;
    })
    .then(() => undefined);
}

/** models remoteproc_virtio.c: rproc_vq_interrupt() — the notifyid's vring, or "no message found" */
export function rproc_vq_interrupt(k: Kernel, r: Rproc, notifyid: number): Promise<undefined> {
  return k.call(
    "core",
    "rproc_vq_interrupt",
    () => {
      const rvdev = r.notifyids.get(notifyid);
      if (rvdev === undefined || !rvdev.registered) {
        k.note("core", "rproc_vq_interrupt", "log", `no message found in vqid ${notifyid}`);
      } else {
        k.note("core", "vring_interrupt", "irq", `${rvdev.subdev.name} vring ${notifyid}`);
      }
      return undefined;
    },
    { detail: `notifyid ${notifyid}` },
  );
}
