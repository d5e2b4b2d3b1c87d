package zfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"
)

// transfer pipes src's zfs send into dst's zfs receive through this
// process, which meters the bytes (progress, bandwidth limit). Both
// commands get real pipes (os.Pipe), so neither depends on exec's copy
// goroutines and either side dying ends the other: the sender gets
// SIGPIPE, the receiver end of file.
func transfer(ctx context.Context, src, dst *Runner, so SendOptions, ro ReceiveOptions, o ReplicateOptions) (int64, error) {
	srcCaps, err := src.Capabilities(ctx)
	if err != nil {
		return 0, err
	}
	dstCaps, err := dst.Capabilities(ctx)
	if err != nil {
		return 0, err
	}
	sendArgv, err := sendArgs(so, srcCaps)
	if err != nil {
		return 0, err
	}
	recvArgv, err := receiveArgs(ro, dstCaps)
	if err != nil {
		return 0, err
	}
	sendR, sendW, err := os.Pipe() // zfs send writes sendW, pump reads sendR
	if err != nil {
		return 0, err
	}
	recvR, recvW, err := os.Pipe() // pump writes recvW, zfs receive reads recvR
	if err != nil {
		sendR.Close()
		sendW.Close()
		return 0, err
	}

	var (
		mu      sync.Mutex
		first   error // the side that failed first caused the failure
		sendErr error
		recvErr error
		sent    atomic.Int64
	)
	record := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if first == nil && err != nil {
			first = err
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		sendErr = src.stream(gctx, src.zfsBin(), sendArgv, nil, sendW)
		record(sendErr)
		sendW.Close() // our copy of the write end: the pump sees EOF
		return sendErr
	})
	g.Go(func() error {
		recvErr = dst.stream(gctx, dst.zfsBin(), recvArgv, recvR, io.Discard)
		record(recvErr)
		recvR.Close() // the pump's writes now fail with EPIPE
		return recvErr
	})
	g.Go(func() error {
		defer sendR.Close() // a sender still writing gets SIGPIPE
		err := pump(gctx, recvW, sendR, &sent, limiter(o.BytesPerSecond), o.Progress)
		recvW.Close() // the receiver sees the end of the stream
		return err
	})
	waitErr := g.Wait()
	if ctx.Err() != nil {
		return sent.Load(), ctx.Err()
	}
	err = first
	// A sender killed by a broken pipe only echoes the receiver's failure.
	if err == sendErr && recvErr != nil && brokenPipe(sendErr) {
		err = recvErr
	}
	if err == nil {
		err = waitErr
	}
	if err != nil {
		return sent.Load(), fmt.Errorf("zfs send | zfs receive %s: %w", ro.Target, err)
	}
	return sent.Load(), nil
}

func brokenPipe(err error) bool {
	var ce *CommandError
	if errors.As(err, &ce) {
		return ce.ExitCode < 0 || strings.Contains(strings.ToLower(ce.Stderr), "broken pipe")
	}
	return errors.Is(err, context.Canceled)
}

// limiter returns a limiter for bytesPerSecond, or nil for no limit.
func limiter(bytesPerSecond int64) *rate.Limiter {
	if bytesPerSecond <= 0 {
		return nil
	}
	burst := int(min(bytesPerSecond, 256<<10))
	return rate.NewLimiter(rate.Limit(bytesPerSecond), burst)
}

// pump copies r to w, counting bytes into n, waiting on lim (if any)
// before each chunk and reporting the running total to progress.
func pump(ctx context.Context, w io.Writer, r io.Reader, n *atomic.Int64, lim *rate.Limiter, progress func(int64)) error {
	buf := make([]byte, 128<<10)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		size := len(buf)
		if lim != nil {
			size = min(size, lim.Burst())
		}
		k, rerr := r.Read(buf[:size])
		if k > 0 {
			if lim != nil {
				if err := lim.WaitN(ctx, k); err != nil {
					return err
				}
			}
			if _, err := w.Write(buf[:k]); err != nil {
				return err
			}
			total := n.Add(int64(k))
			if progress != nil {
				progress(total)
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}
