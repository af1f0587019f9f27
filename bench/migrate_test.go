package bench

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/server"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/postgres/pgtest"
	"github.com/tsprov/tsprov/internal/store/sqlite"
	"github.com/tsprov/tsprov/schema"
)

var (
	migratePackages = flag.Int("migrate.packages", 100_000, "BenchmarkMigrate100k: packages in the data folder it copies")
	migrateFolder   = flag.String("migrate.folder", "", "BenchmarkMigrate100k: keep the data folder here and use it again when it exists (default: a new temporary folder)")
)

// migrateBatch is how many packages a transaction writes while the
// benchmark builds its data folder.
const migrateBatch = 2000

// BenchmarkMigrate100k: `tsprov migrate` (the binary, as a user runs it)
// of a data folder of 100,000 packages into an empty PostgreSQL schema,
// comparison included. It reports the wall time of each run (s/op), the
// packages copied a second, the process's peak resident set size
// (peak-RSS-MB, the kernel's ru_maxrss of the child), and the CPU time of
// tsprov and of the PostgreSQL server processes serving it. The folder is built
// first, through the store in batches (migrateBatch packages a
// transaction), not timed. Skipped when TSPROV_TEST_POSTGRES is unset.
func BenchmarkMigrate100k(b *testing.B) {
	base := pgtest.URL(b, b.Name()) // skips when PostgreSQL is not set
	dir := *migrateFolder
	if dir == "" {
		dir = filepath.Join(b.TempDir(), "data")
	}
	if _, err := os.Stat(filepath.Join(dir, server.DatabaseFile)); err != nil {
		start := time.Now()
		if err := buildMigrateFolder(dir, *migratePackages); err != nil {
			b.Fatal(err)
		}
		b.Logf("built %d packages in %s in %v", *migratePackages, dir, time.Since(start).Round(time.Second))
	}
	tsprov := build(b, b.TempDir(), "./cmd/tsprov")
	b.ResetTimer()
	var took, cpu, pgCPU time.Duration
	var peakKB int64
	for i := range b.N {
		b.StopTimer()
		url := base
		if i > 0 {
			url = pgtest.URL(b, fmt.Sprintf("%s-%d", b.Name(), i))
		}
		app := fmt.Sprintf("tsprov-bench-migrate-%d-%d", os.Getpid(), i)
		var out bytes.Buffer
		cmd := exec.Command(tsprov, "migrate", "--from", dir, "--to", url+"&application_name="+app, "--quiet")
		cmd.Stdout, cmd.Stderr = &out, &out
		b.StartTimer()
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		backends := watchBackends(b, base, app)
		err := cmd.Wait()
		took += time.Since(start)
		b.StopTimer()
		pgCPU += backends()
		if err != nil || !strings.Contains(out.String(), "the copy equals the source") {
			b.Fatalf("tsprov migrate: %v\n%s", err, out.String())
		}
		cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			peakKB = max(peakKB, ru.Maxrss) // kilobytes on Linux
		}
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(*migratePackages)*float64(b.N)/took.Seconds(), "packages/s")
	b.ReportMetric(float64(peakKB)/1024, "peak-RSS-MB")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "tsprov-cpu-s/op")
	b.ReportMetric(pgCPU.Seconds()/float64(b.N), "postgres-cpu-s/op")
}

// watchBackends follows the CPU time of the PostgreSQL server processes
// that serve connections named app (application_name), reading
// /proc/<pid>/stat (PostgreSQL on this machine) every 100 ms, until the
// function it returns is called; that function returns their CPU time
// (user and system) at the last reading. On a loaded machine the wall
// time says little; the CPU time of tsprov and of its PostgreSQL server
// processes together is what the copy costs.
func watchBackends(b *testing.B, base, app string) func() time.Duration {
	ctx, cancel := context.WithCancel(context.Background())
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		b.Fatal(err)
	}
	ticks := map[int]int64{} // clock ticks (100 a second) by process
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer conn.Close(context.Background())
		for ctx.Err() == nil {
			rows, err := conn.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = $1`, app)
			if err == nil {
				pids, _ := pgx.CollectRows(rows, pgx.RowTo[int32])
				for _, pid := range pids {
					if t, ok := procTicks(int(pid)); ok {
						ticks[int(pid)] = t
					}
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return func() time.Duration {
		cancel()
		<-done
		var sum int64
		for _, t := range ticks {
			sum += t
		}
		return time.Duration(sum) * 10 * time.Millisecond
	}
}

// procTicks reads the user and system CPU time of a process, in clock
// ticks, from /proc/<pid>/stat (fields 14 and 15, after the command
// name in parentheses).
func procTicks(pid int) (int64, bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	return utime + stime, err1 == nil && err2 == nil
}

// buildMigrateFolder writes a data folder of n packages, each made as the
// provider makes one on Create (the class defaults, then its values) with
// a task sequence (a lazy value); every fifth is updated once (version 2),
// so that the change feed holds n + n/5 events, and the id counter is
// drawn once a package.
func buildMigrateFolder(dir string, n int) error {
	ctx := context.Background()
	reg, err := schema.Registry()
	if err != nil {
		return err
	}
	c, ok := reg.Class("SMS_TaskSequencePackage")
	if !ok {
		return fmt.Errorf("no class SMS_TaskSequencePackage")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, server.DatabaseFile), reg)
	if err != nil {
		return err
	}
	pkg := func(i int, version string) *cim.Instance {
		in := cim.NewInstance(c)
		for _, p := range c.Properties {
			if p.Default != nil {
				in.Values[p.Name] = cim.CloneValue(p.Default)
			}
		}
		in.Set("PackageID", fmt.Sprintf("PS1%05X", i))
		in.Set("Name", fmt.Sprintf("Windows 11 23H2 - Site %04d - x64", i))
		in.Set("Description", "Bare metal deployment")
		in.Set("Version", version)
		in.Set("SecuredScopeNames", []any{"Default"})
		in.Set("Sequence", fmt.Sprintf(`<sequence version="3.00"><group name="Install"><step name="Apply OS %d" type="SMS_TaskSequence_ApplyOperatingSystemAction"><defaultVarList><variable name="OSDApplyOS" property="ImagePackageID">PS1%05X</variable></defaultVarList></step><step name="Run %d" type="SMS_TaskSequence_RunCommandLineAction"><defaultVarList><variable name="CommandLine" property="CommandLine">cmd /c echo %d</variable></defaultVarList></step></group></sequence>`, i, i, i, i))
		return in
	}
	for from := 1; from <= n; from += migrateBatch {
		err := st.Write(ctx, func(tx store.Tx) error {
			for i := from; i < from+migrateBatch && i <= n; i++ {
				if _, err := tx.NextSequence(ctx, "PS1"); err != nil {
					return err
				}
				if err := tx.Insert(ctx, &store.Record{Instance: pkg(i, "1.0")}); err != nil {
					return err
				}
				if i%5 == 0 {
					if err := tx.Update(ctx, &store.Record{Instance: pkg(i, "1.1")}); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			st.Close()
			return fmt.Errorf("build the migrate folder: %w", err)
		}
	}
	return st.Close()
}
