package aof

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Ways to make a batch durable that the writer does not use, measured
// against the one it does (pwrite over padding, then fdatasync on a
// thread), so that docs/durability.md's reasoning about appendfsync always
// can be re-run on any disk:
//
//   - iouring: the same fdatasync submitted as IORING_OP_FSYNC, so no Go
//     thread blocks in it. The kernel runs it on an io-wq worker; the
//     hand-off is what this measures.
//   - direct-dsync: O_DIRECT pwritev2 with RWF_DSYNC over blocks already
//     written, one system call per batch and no page cache (the batch
//     must then be written in whole, aligned blocks).
//
// MULLET_BENCH_DIR chooses the disk, as for BenchmarkFdatasyncModes.
func BenchmarkFdatasyncPaths(b *testing.B) {
	dir := os.Getenv("MULLET_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	for _, size := range []int{4 << 10, 64 << 10, 256 << 10} {
		for _, mode := range []string{"thread", "iouring", "direct-dsync"} {
			b.Run(fmt.Sprintf("%s/%dKiB", mode, size>>10), func(b *testing.B) {
				path := filepath.Join(dir, "fsync-paths-bench")
				total := int64(size) * int64(b.N)
				f := preparedFile(b, path, total)
				defer os.Remove(path)
				defer f.Close()
				buf := alignedBuf(size)
				var sync func(i int) error
				switch mode {
				case "thread":
					sync = func(i int) error {
						if _, err := f.WriteAt(buf, int64(i)*int64(size)); err != nil {
							return err
						}
						return unix.Fdatasync(int(f.Fd()))
					}
				case "iouring":
					r, err := newTestRing()
					if err != nil {
						b.Skipf("no io_uring here: %v", err)
					}
					defer r.close()
					sync = func(i int) error {
						if _, err := f.WriteAt(buf, int64(i)*int64(size)); err != nil {
							return err
						}
						return r.fdatasync(int(f.Fd()))
					}
				case "direct-dsync":
					df, err := os.OpenFile(path, os.O_WRONLY|unix.O_DIRECT, 0)
					if err != nil {
						b.Skipf("no O_DIRECT here: %v", err)
					}
					defer df.Close()
					sync = func(i int) error {
						_, err := unix.Pwritev2(int(df.Fd()), [][]byte{buf}, int64(i)*int64(size), unix.RWF_DSYNC)
						return err
					}
				}
				b.SetBytes(int64(size))
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := sync(i); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// preparedFile creates path with total bytes written and synced, so the
// benchmark overwrites blocks inside the file size (the padded case).
func preparedFile(b *testing.B, path string, total int64) *os.File {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for off := int64(0); off < total; off += int64(len(chunk)) {
		if _, err := f.WriteAt(chunk[:min(int64(len(chunk)), total-off)], off); err != nil {
			b.Fatal(err)
		}
	}
	if err := unix.Fdatasync(int(f.Fd())); err != nil {
		b.Fatal(err)
	}
	return f
}

// alignedBuf returns size bytes aligned for O_DIRECT (4 KiB).
func alignedBuf(size int) []byte {
	raw := make([]byte, size+4096)
	off := int(4096 - uintptr(unsafe.Pointer(&raw[0]))%4096)
	return raw[off : off+size]
}

// testRing is the smallest io_uring that submits one IORING_OP_FSYNC and
// waits for it in io_uring_enter. The kernel ABI is
// include/uapi/linux/io_uring.h.
type testRing struct {
	fd                   int
	sqMem, cqMem, sqeMem []byte
	sqTail, cqHead       *uint32
	sqMask, cqMask       uint32
	sqArray              []uint32
	sqes                 []ringSQE
	cqes                 []ringCQE
}

type ringParams struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFD uint32
	resv                                                                   [3]uint32
	// io_sqring_offsets: head, tail, ring_mask, ring_entries, flags,
	// dropped, array, resv1, then user_addr.
	sqOff [8]uint32
	sqUA  uint64
	// io_cqring_offsets: head, tail, ring_mask, ring_entries, overflow,
	// cqes, flags, resv1, then user_addr.
	cqOff [8]uint32
	cqUA  uint64
}

type ringSQE struct {
	opcode, flags uint8
	ioprio        uint16
	fd            int32
	off, addr     uint64
	len, opFlags  uint32
	userData      uint64
	pad           [3]uint64
}

type ringCQE struct {
	userData uint64
	res      int32
	flags    uint32
}

func newTestRing() (*testRing, error) {
	var p ringParams
	fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, 4, uintptr(unsafe.Pointer(&p)), 0)
	if errno != 0 {
		return nil, errno
	}
	r := &testRing{fd: int(fd)}
	const prot, flags = unix.PROT_READ | unix.PROT_WRITE, unix.MAP_SHARED | unix.MAP_POPULATE
	var err error
	if r.sqMem, err = unix.Mmap(r.fd, 0, int(p.sqOff[6]+p.sqEntries*4), prot, flags); err != nil {
		r.close()
		return nil, err
	}
	if r.cqMem, err = unix.Mmap(r.fd, 0x8000000, int(p.cqOff[5]+p.cqEntries*16), prot, flags); err != nil {
		r.close()
		return nil, err
	}
	if r.sqeMem, err = unix.Mmap(r.fd, 0x10000000, int(p.sqEntries)*64, prot, flags); err != nil {
		r.close()
		return nil, err
	}
	r.sqTail = (*uint32)(unsafe.Pointer(&r.sqMem[p.sqOff[1]]))
	r.sqMask = *(*uint32)(unsafe.Pointer(&r.sqMem[p.sqOff[2]]))
	r.sqArray = unsafe.Slice((*uint32)(unsafe.Pointer(&r.sqMem[p.sqOff[6]])), p.sqEntries)
	r.sqes = unsafe.Slice((*ringSQE)(unsafe.Pointer(&r.sqeMem[0])), p.sqEntries)
	r.cqHead = (*uint32)(unsafe.Pointer(&r.cqMem[p.cqOff[0]]))
	r.cqMask = *(*uint32)(unsafe.Pointer(&r.cqMem[p.cqOff[2]]))
	r.cqes = unsafe.Slice((*ringCQE)(unsafe.Pointer(&r.cqMem[p.cqOff[5]])), p.cqEntries)
	return r, nil
}

// fdatasync submits IORING_OP_FSYNC with IORING_FSYNC_DATASYNC and waits
// for its completion (IORING_ENTER_GETEVENTS).
func (r *testRing) fdatasync(fd int) error {
	tail := *r.sqTail
	i := tail & r.sqMask
	r.sqes[i] = ringSQE{opcode: 3, fd: int32(fd), opFlags: 1}
	r.sqArray[i] = i
	*r.sqTail = tail + 1 // io_uring_enter below is the barrier the kernel needs
	for {
		_, _, errno := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), 1, 1, 1, 0, 0)
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return errno
		}
		break
	}
	head := *r.cqHead
	c := r.cqes[head&r.cqMask]
	*r.cqHead = head + 1
	if c.res < 0 {
		return unix.Errno(-c.res)
	}
	return nil
}

func (r *testRing) close() {
	for _, m := range [][]byte{r.sqeMem, r.cqMem, r.sqMem} {
		if m != nil {
			unix.Munmap(m)
		}
	}
	unix.Close(r.fd)
}
