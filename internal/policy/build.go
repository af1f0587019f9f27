// Package policy builds the client policy documents of a task sequence
// deployment and of the site's client settings (reference/policies.md):
// the bodies and assignments GetTsPolicies, GetTsPoliciesSaMedia and
// GetClientConfigPolicies return. It is pure: the caller gathers the
// packages, the deployment and the settings; the same inputs give the same
// documents, byte for byte.
package policy

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tsprov/tsprov/internal/errs"
)

// Deployment is what the policies take from a deployment (SMS_Advertisement)
// or from the method's arguments.
type Deployment struct {
	AdvertisementID   string
	Comment           string // PRG_Comment when set, else the package's Description
	SourceSite        string // PolicySource SMS:<site>
	AdvertFlags       uint32
	RemoteClientFlags uint32
	// PresentTime is when the deployment becomes available (ADV_ActiveTime);
	// zero is the SDK's default, 1990-01-01.
	PresentTime      time.Time
	PresentTimeIsGMT bool
	// ExpirationTime, when not zero, is when it stops being available.
	ExpirationTime      time.Time
	ExpirationTimeIsGMT bool
	MandatoryCountdown  uint32 // minutes (TS_MandatoryCountdown)
}

// Package is a package a policy runs: the task sequence package itself or
// a package its steps refer to.
type Package struct {
	PackageID     string
	Name          string
	Manufacturer  string
	Language      string
	Version       string
	Description   string
	SourceVersion uint32
	PackageSize   uint32 // KB (PKG_ContentSize)
	SourceHash    string // the content hash (PKG_SourceHash)
	HasSource     bool   // PKG_PSF_ContainsSourceFiles
	Duration      uint32 // minutes (PRG_MaxDuration) when no program says
	Programs      []Program
}

// Program is a program of a package (SMS_Program).
type Program struct {
	Name        string
	CommandLine string
	Comment     string
	Duration    uint32 // minutes
}

// Reference is a package a task sequence refers to, with the program a
// step names ("" for none).
type Reference struct {
	PackageID string
	Program   string
}

// TaskSequence is a task sequence package with its sequence.
type TaskSequence struct {
	Package
	Type                  uint32 // 1 generic, 2 operating system deployment (TS_Type)
	BootImageID           string
	CustomProgressMessage string
	Sequence              string // the <sequence> XML, as GetSequence/SetSequence hold it
	References            []Reference
}

// Input is everything the policies of a task sequence deployment need.
type Input struct {
	Deployment   Deployment
	TaskSequence TaskSequence
	// Packages are the packages the sequences refer to (and their boot
	// images); Children the task sequences their Run Task Sequence steps
	// run, at any depth.
	Packages []Package
	Children []TaskSequence
	// Limit is the largest task sequence policy, in UTF-16 bytes; 0 is
	// MaxPolicyBytes.
	Limit int64
}

// Document is one policy and its assignment.
type Document struct {
	PolicyID   string
	Version    int
	Category   string // the assignment's PolicyCategory
	Class      string // the WMI class of the policy's instance
	PackageID  string // "" for client settings
	Body       string
	Assignment string
}

// Set is a policy set; for a task sequence the task sequence's policy is
// first.
type Set []Document

// Bodies are the policies (PolicyXmls).
func (s Set) Bodies() []string {
	out := make([]string, len(s))
	for i, d := range s {
		out[i] = d.Body
	}
	return out
}

// Assignments are the assignments, aligned with Bodies (PolicyAssignmentXmls).
func (s Set) Assignments() []string {
	out := make([]string, len(s))
	for i, d := range s {
		out[i] = d.Assignment
	}
	return out
}

// Categories and flags of the assignments (policies.md §4, §8).
const (
	CategoryTaskSequence         = "TaskSequence"
	CategorySoftwareDistribution = "SoftwareDistribution"

	FlagTaskSequence       = 1  // POLICY_FLAGS_TS_FOR_CD_AND_PXE
	FlagRequiresAuth       = 2  // POLICY_FLAGS_REQUIRES_AUTHZ
	FlagSecret             = 4  // POLICY_FLAGS_SECRETS
	FlagIntranetOnly       = 8  // POLICY_FLAGS_INTRANET_ONLY
	FlagPersistWholePolicy = 16 // POLICY_FLAGS_PERSIST_WHOLE_POLICY

	taskSequenceFlags = FlagTaskSequence | FlagRequiresAuth | FlagSecret | FlagPersistWholePolicy
	packageFlags      = FlagTaskSequence

	classTaskSequence = "CCM_TaskSequence"
	classSoftwareDist = "CCM_SoftwareDistribution"
	firstVersion      = 1
)

// defaultPresentTime is the SDK's default PresentTime, 19900101000000.
var defaultPresentTime = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)

// Build makes the policy set of a task sequence deployment
// (policies.md §8): the task sequence's CCM_TaskSequence policy first,
// then one CCM_SoftwareDistribution policy per referenced package and
// program (the sequences' references and boot images, children's
// included, in order of first appearance), then one CCM_TaskSequence
// policy per child task sequence; each with its assignment.
//
// Outcomes: the set; errs.Invalid naming the field (AdvertisementID,
// SourceSite, PackageID, …) for a value a policy cannot carry;
// errs.NotFound naming a referenced package the input lacks; errs.TooLarge
// when a task sequence's policy exceeds the limit (each child has its own).
func Build(in Input) (Set, error) {
	d := in.Deployment
	if err := checkID("AdvertisementID", d.AdvertisementID, 1, 16); err != nil {
		return nil, err
	}
	if err := checkID("SourceSite", d.SourceSite, 3, 3); err != nil {
		return nil, err
	}
	for _, f := range []struct{ name, v string }{{"AdvertisementComment", d.Comment}} {
		if err := checkText(f.name, f.v); err != nil {
			return nil, err
		}
	}
	limit := in.Limit
	if limit <= 0 {
		limit = MaxPolicyBytes
	}
	b := builder{in: in, limit: limit, packages: map[string]*Package{}, children: map[string]*TaskSequence{}}
	for i := range in.Packages {
		b.packages[strings.ToUpper(in.Packages[i].PackageID)] = &in.Packages[i]
	}
	for i := range in.Children {
		b.children[strings.ToUpper(in.Children[i].PackageID)] = &in.Children[i]
	}
	return b.build()
}

type builder struct {
	in       Input
	limit    int64
	packages map[string]*Package
	children map[string]*TaskSequence
}

func (b *builder) build() (Set, error) {
	root := &b.in.TaskSequence
	// The sequences in the order their policies come: the root, then its
	// children depth first in reference order, each once.
	sequences := []*TaskSequence{root}
	seen := map[string]bool{strings.ToUpper(root.PackageID): true}
	for i := 0; i < len(sequences); i++ {
		var kids []*TaskSequence
		for _, r := range sequences[i].References {
			id := strings.ToUpper(r.PackageID)
			if child, ok := b.children[id]; ok && !seen[id] {
				seen[id] = true
				kids = append(kids, child)
			}
		}
		sequences = append(sequences[:i+1], append(kids, sequences[i+1:]...)...)
	}

	var refs []Reference
	refSeen := map[Reference]bool{}
	bootImages := map[string]bool{}
	for _, ts := range sequences {
		boot := strings.ToUpper(b.bootImage(ts))
		bootImages[boot] = true
		list := append(append([]Reference(nil), ts.References...), Reference{PackageID: boot})
		for _, r := range list {
			id := strings.ToUpper(r.PackageID)
			if id == "" || b.children[id] != nil || strings.EqualFold(id, root.PackageID) {
				continue
			}
			k := Reference{PackageID: id, Program: programOf(r.Program)}
			if !refSeen[k] {
				refSeen[k] = true
				refs = append(refs, k)
			}
		}
	}

	set := make(Set, 0, 1+len(refs)+len(sequences)-1)
	doc, err := b.taskSequence(root)
	if err != nil {
		return nil, err
	}
	set = append(set, doc)
	for _, r := range refs {
		pkg, ok := b.packages[r.PackageID]
		if !ok && bootImages[r.PackageID] {
			return nil, errs.Target(errs.NotFound, "BootImageID", "boot image %s does not exist", r.PackageID)
		}
		if !ok {
			return nil, errs.Target(errs.NotFound, "References", "task sequence refers to package %s, which does not exist", r.PackageID)
		}
		doc, err := b.softwareDistribution(pkg, r.Program)
		if err != nil {
			return nil, err
		}
		set = append(set, doc)
	}
	for _, ts := range sequences[1:] {
		doc, err := b.taskSequence(ts)
		if err != nil {
			return nil, err
		}
		set = append(set, doc)
	}
	return set, nil
}

// bootImage is a sequence's boot image: its own, else the deployed
// sequence's (a child runs in the parent's Windows PE).
func (b *builder) bootImage(ts *TaskSequence) string {
	if ts.BootImageID != "" {
		return ts.BootImageID
	}
	return b.in.TaskSequence.BootImageID
}

func programOf(p string) string {
	if p == "" {
		return AnyProgram
	}
	return p
}

func (b *builder) taskSequence(ts *TaskSequence) (Document, error) {
	if err := checkPackage(&ts.Package); err != nil {
		return Document{}, err
	}
	for _, f := range []struct{ name, v string }{{"Sequence", ts.Sequence}, {"CustomProgressMessage", ts.CustomProgressMessage}, {"BootImageID", ts.BootImageID}} {
		if err := checkText(f.name, f.v); err != nil {
			return Document{}, err
		}
	}
	d := b.in.Deployment
	id := PolicyID(d.AdvertisementID, ts.PackageID, AnyProgram)
	var refs []string
	refSeen := map[string]bool{}
	for _, r := range ts.References {
		k := strings.ToUpper(r.PackageID)
		if k != "" && !refSeen[k] {
			refSeen[k] = true
			refs = append(refs, k)
		}
	}
	props := b.advertisement(id, true)
	props = append(props, packageProps(&ts.Package)...)
	props = append(props,
		str("PRG_Comment", b.comment(&ts.Package, nil)),
		uint32p("PRG_MaxDuration", ts.Duration),
		str("PRG_ProgramName", AnyProgram),
		str("PRG_Requirements", b.requirements(id, ts.CustomProgressMessage, true)),
		str("TS_BootImageID", b.bootImage(ts)),
		uint32p("TS_MandatoryCountdown", d.MandatoryCountdown),
		strArray("TS_References", refs),
		secretStr("TS_Sequence", ts.Sequence),
		uint32p("TS_Type", ts.Type),
	)
	insts := []instance{{class: classTaskSequence, props: append(keys(d.AdvertisementID, ts.PackageID, AnyProgram), props...)}}
	body := body(id, firstVersion, d.SourceSite, GUID("rule", id, versionText(firstVersion)), insts, id)
	if n := UTF16Bytes(body); n > b.limit {
		return Document{}, errs.Target(errs.TooLarge, "PackageID",
			"the policy of task sequence %s is %d bytes (UTF-16, as the client counts it); a task sequence policy is limited to %d bytes (%s), each child task sequence to its own",
			ts.PackageID, n, b.limit, mb(b.limit))
	}
	return Document{
		PolicyID: id, Version: firstVersion, Category: CategoryTaskSequence, Class: classTaskSequence,
		PackageID: ts.PackageID, Body: body,
		Assignment: assignment(id, firstVersion, CategoryTaskSequence, taskSequenceFlags, body),
	}, nil
}

func (b *builder) softwareDistribution(pkg *Package, program string) (Document, error) {
	if err := checkPackage(pkg); err != nil {
		return Document{}, err
	}
	d := b.in.Deployment
	id := PolicyID(d.AdvertisementID, pkg.PackageID, program)
	var prg *Program
	for i := range pkg.Programs {
		if strings.EqualFold(pkg.Programs[i].Name, program) {
			prg = &pkg.Programs[i]
		}
	}
	props := b.advertisement(id, false)
	props = append(props, packageProps(pkg)...)
	duration := pkg.Duration
	if prg != nil {
		if err := checkText("CommandLine", prg.CommandLine); err != nil {
			return Document{}, err
		}
		props = append(props, str("PRG_CommandLine", prg.CommandLine))
		duration = prg.Duration
	}
	props = append(props,
		str("PRG_Comment", b.comment(pkg, prg)),
		uint32p("PRG_MaxDuration", duration),
		str("PRG_ProgramName", program),
		str("PRG_Requirements", b.requirements(id, "", false)),
	)
	insts := []instance{{class: classSoftwareDist, props: append(keys(d.AdvertisementID, pkg.PackageID, program), props...)}}
	body := body(id, firstVersion, d.SourceSite, GUID("rule", id, versionText(firstVersion)), insts, id)
	return Document{
		PolicyID: id, Version: firstVersion, Category: CategorySoftwareDistribution, Class: classSoftwareDist,
		PackageID: pkg.PackageID, Body: body,
		Assignment: assignment(id, firstVersion, CategorySoftwareDistribution, packageFlags, body),
	}, nil
}

func keys(advert, pkg, program string) []property {
	return []property{str("ADV_AdvertisementID", advert), str("PKG_PackageID", pkg), str("PRG_ProgramID", program)}
}

// AdvertFlags and RemoteClientFlags bits the policies read
// (sms_advertisement-server-wmi-class.md).
const (
	advImmediate        = 0x00000020
	advOnSystemStartup  = 0x00000100
	advOnUserLogon      = 0x00000200
	advOnUserLogoff     = 0x00000400
	advOptionalPreDown  = 0x00001000
	advPeerCaching      = 0x00010000
	advDoNotFallback    = 0x00020000
	advOverrideSW       = 0x00100000
	advRebootOutsideSW  = 0x00200000
	advWakeOnLAN        = 0x00400000
	advShowProgress     = 0x00800000
	rcfRunLocalDP       = 0x00000008
	rcfDownloadLocalDP  = 0x00000010
	rcfDownloadRemoteDP = 0x00000040
	rcfRunRemoteDP      = 0x00000080
	rcfOnDemandLocal    = 0x00000100
	rcfOnDemandRemote   = 0x00000200
	rcfBalloon          = 0x00000400
	rcfRerunAlways      = 0x00000800
	rcfRerunNever       = 0x00001000
	rcfRerunIfFailed    = 0x00002000
	rcfRerunIfSucceeded = 0x00004000
	rcfPersistOnWF      = 0x00008000
)

// advertisement is the ADV_* properties (after the keys).
func (b *builder) advertisement(id string, ts bool) []property {
	d := b.in.Deployment
	present := d.PresentTime
	if present.IsZero() {
		present = defaultPresentTime
	}
	props := []property{
		dateTime("ADV_ActiveTime", present),
		boolean("ADV_ActiveTimeIsGMT", d.PresentTimeIsGMT),
		boolean("ADV_ADF_Published", true),
	}
	if !d.ExpirationTime.IsZero() {
		props = append(props,
			dateTime("ADV_ExpirationTime", d.ExpirationTime),
			boolean("ADV_ExpirationTimeIsGMT", d.ExpirationTimeIsGMT))
	}
	mandatory := ts && d.AdvertFlags&(advImmediate|advOnSystemStartup|advOnUserLogon|advOnUserLogoff) != 0
	props = append(props,
		boolean("ADV_MandatoryAssignments", mandatory),
		str("ADV_RCF_InstallFromLocalDPOptions", dpOptions(d.RemoteClientFlags, rcfOnDemandLocal, rcfDownloadLocalDP, rcfRunLocalDP)),
		str("ADV_RCF_InstallFromRemoteDPOptions", dpOptions(d.RemoteClientFlags, rcfOnDemandRemote, rcfDownloadRemoteDP, rcfRunRemoteDP)),
		str("ADV_RepeatRunBehavior", rerun(d.RemoteClientFlags)),
	)
	return props
}

// dpOptions names how content is reached from a distribution point, in
// the words of the deployment wizard.
func dpOptions(flags uint32, onDemand, download, run uint32) string {
	switch {
	case flags&onDemand != 0:
		return "DownloadContentLocallyWhenNeeded"
	case flags&download != 0:
		return "DownloadAllContentLocallyBeforeStarting"
	case flags&run != 0:
		return "AccessContentDirectlyFromDistributionPoint"
	}
	return "DoNotRun"
}

// rerun names the rerun behaviour; RerunAlways is the form a captured
// policy shows.
func rerun(flags uint32) string {
	switch {
	case flags&rcfRerunNever != 0:
		return "RerunNever"
	case flags&rcfRerunIfFailed != 0:
		return "RerunIfFailed"
	case flags&rcfRerunIfSucceeded != 0:
		return "RerunIfSucceeded"
	}
	return "RerunAlways"
}

func packageProps(p *Package) []property {
	return []property{
		uint32p("PKG_ContentSize", p.PackageSize),
		str("PKG_Language", p.Language),
		str("PKG_Manufacturer", p.Manufacturer),
		str("PKG_Name", p.Name),
		boolean("PKG_PSF_ContainsSourceFiles", p.HasSource),
		str("PKG_SourceHash", p.SourceHash),
		str("PKG_SourceVersion", fmt.Sprint(p.SourceVersion)),
		str("PKG_version", p.Version),
	}
}

func (b *builder) comment(p *Package, prg *Program) string {
	switch {
	case b.in.Deployment.Comment != "":
		return b.in.Deployment.Comment
	case prg != nil && prg.Comment != "":
		return prg.Comment
	}
	return p.Description
}

// requirements is PRG_Requirements: the SWDReserved document of
// policies.md §2.3, its flags from the deployment.
func (b *builder) requirements(id, progressMessage string, ts bool) string {
	d := b.in.Deployment
	af, rf := d.AdvertFlags, d.RemoteClientFlags
	var s strings.Builder
	el := func(name, v string) { s.WriteString("<" + name + ">" + v + "</" + name + ">") }
	s.WriteString("<SWDReserved>")
	el("PackageHashVersion", "1")
	el("PackageHash.1", "")
	el("PackageHash.2", "")
	el("NewPackageHash", "")
	el("ProductCode", "")
	el("DisableMomAlerts", boolText(false))
	el("RaiseMomAlertOnFailure", boolText(false))
	el("BalloonRemindersRequired", boolText(rf&rcfBalloon != 0))
	el("PersistOnWriteFilterDevices", boolText(rf&rcfPersistOnWF != 0))
	el("DefaultProgram", boolText(true))
	el("PersistInCache", "0")
	el("DistributeOnDemand", boolText(false))
	el("Multicast", boolText(false))
	el("MulticastOnly", boolText(false))
	el("MulticastEncrypt", boolText(false))
	el("DonotFallback", boolText(af&advDoNotFallback != 0))
	el("PeerCaching", boolText(af&advPeerCaching != 0))
	el("OptionalPreDownload", boolText(af&advOptionalPreDown != 0))
	el("PreDownloadRule", "")
	el("Requirements", "")
	el("AssignmentID", "")
	var sb strings.Builder
	attr(&sb, id)
	el("ScheduledMessageID", sb.String())
	el("OverrideServiceWindows", boolText(af&advOverrideSW != 0))
	el("RebootOutsideOfServiceWindows", boolText(af&advRebootOutsideSW != 0))
	el("WoLEnabled", boolText(af&advWakeOnLAN != 0))
	el("ShowTSProgressUI", boolText(ts && af&advShowProgress != 0))
	el("UseTSCustomProgressMessage", boolText(ts && progressMessage != ""))
	var msg strings.Builder
	attr(&msg, progressMessage)
	el("TSCustomProgressMessage", msg.String())
	el("ContainsAdditionalProperties", boolText(false))
	s.WriteString("</SWDReserved>")
	return s.String()
}

// checkPackage checks the values of a package a policy carries.
func checkPackage(p *Package) error {
	if err := checkID("PackageID", p.PackageID, 1, 16); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{{"Name", p.Name}, {"Manufacturer", p.Manufacturer}, {"Language", p.Language},
		{"Version", p.Version}, {"Description", p.Description}, {"SourceHash", p.SourceHash}} {
		if err := checkText(f.name, f.v); err != nil {
			return fmt.Errorf("package %s: %w", p.PackageID, err)
		}
	}
	return nil
}

// checkID accepts letters and digits only, lo to hi of them: the ids
// become parts of policy ids and URLs.
func checkID(field, v string, lo, hi int) error {
	if len(v) < lo || len(v) > hi {
		if v == "" {
			return errs.Target(errs.Invalid, field, "%s is required", field)
		}
		return errs.Target(errs.Invalid, field, "%s %q is %d characters long; allowed: %d to %d", field, v, len(v), lo, hi)
	}
	for _, r := range v {
		if !('0' <= r && r <= '9' || 'A' <= r && r <= 'Z' || 'a' <= r && r <= 'z') {
			return errs.Target(errs.Invalid, field, "%s %q may hold letters and digits only", field, v)
		}
	}
	return nil
}

// checkText refuses what XML 1.0 cannot carry.
func checkText(field, v string) error {
	for i, r := range v {
		if r == utf8.RuneError && !strings.HasPrefix(v[i:], "\uFFFD") {
			return errs.Target(errs.Invalid, field, "%s is not valid UTF-8 (byte %d)", field, i)
		}
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xFFFE || r == 0xFFFF {
			return errs.Target(errs.Invalid, field, "%s holds the character U+%04X at byte %d, which XML cannot carry", field, r, i)
		}
	}
	return nil
}
