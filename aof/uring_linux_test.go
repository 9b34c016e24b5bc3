package aof

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

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
