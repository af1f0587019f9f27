package policy

import "strconv"

// ClientSettings are the site-wide client settings the client
// configuration policies carry.
type ClientSettings struct {
	Site                           string // PolicySource SMS:<site>
	Version                        int    // policy version, 1 and up
	SoftwareDistributionEnabled    bool
	DefaultMaxDuration             uint32 // minutes
	ContentLocationTimeoutInterval uint32 // seconds
	BrandingTitle                  string
	// NetworkAccessUsername, when not empty, adds the NAAConfig policy
	// (with NetworkAccessPassword); both are secret.
	NetworkAccessUsername string
	NetworkAccessPassword string
}

// Categories of the client configuration policies (NAAConfig is the
// captured one; the others name their class).
const (
	CategoryNAAConfig                  = "NAAConfig"
	CategorySoftwareDistributionConfig = "SoftwareDistributionClientConfig"
	CategoryClientAgentConfig          = "ClientAgentConfig"

	naaFlags          = FlagRequiresAuth | FlagSecret | FlagIntranetOnly | FlagPersistWholePolicy // 30, as captured
	clientConfigFlags = FlagPersistWholePolicy
)

// ClientConfig makes the site-wide client configuration policies
// (policies.md §5): CCM_SoftwareDistributionClientConfig,
// CCM_ClientAgentConfig and, when a network access account is set,
// CCM_NetworkAccessAccount with its secrets obfuscated. Each policy id is
// a GUID fixed per site and class; the version is the settings'.
//
// Outcomes: the set; errs.Invalid naming the field for a value a policy
// cannot carry.
func ClientConfig(s ClientSettings) (Set, error) {
	if err := checkID("SourceSite", s.Site, 3, 3); err != nil {
		return nil, err
	}
	for _, f := range []struct{ name, v string }{{"BrandingTitle", s.BrandingTitle}, {"NetworkAccessUsername", s.NetworkAccessUsername}, {"NetworkAccessPassword", s.NetworkAccessPassword}} {
		if err := checkText(f.name, f.v); err != nil {
			return nil, err
		}
	}
	version := s.Version
	if version < 1 {
		version = 1
	}
	key := uint32p("SiteSettingsKey", 1)
	docs := []struct {
		class, category string
		flags           uint32
		props           []property
	}{
		{"CCM_SoftwareDistributionClientConfig", CategorySoftwareDistributionConfig, clientConfigFlags, []property{
			key,
			str("ComponentName", "Enable SWDist"),
			boolean("Enabled", s.SoftwareDistributionEnabled),
			boolean("LockSettings", true),
			uint32p("DefaultMaxDuration", s.DefaultMaxDuration),
			uint32p("ContentLocationTimeoutInterval", s.ContentLocationTimeoutInterval),
		}},
		{"CCM_ClientAgentConfig", CategoryClientAgentConfig, clientConfigFlags, []property{
			key,
			str("BrandingTitle", s.BrandingTitle),
		}},
	}
	if s.NetworkAccessUsername != "" {
		docs = append(docs, struct {
			class, category string
			flags           uint32
			props           []property
		}{"CCM_NetworkAccessAccount", CategoryNAAConfig, naaFlags, []property{
			key,
			secretStr("NetworkAccessUsername", s.NetworkAccessUsername),
			secretStr("NetworkAccessPassword", s.NetworkAccessPassword),
			str("Reserved1", ""), str("Reserved2", ""), str("Reserved3", ""),
		}})
	}
	set := make(Set, 0, len(docs))
	for _, d := range docs {
		id := GUID("client-config", s.Site, d.class)
		body := body(id, version, s.Site, GUID("rule", id, versionText(version)), []instance{{class: d.class, props: d.props}}, id+"\x00"+strconv.Itoa(version))
		set = append(set, Document{
			PolicyID: id, Version: version, Category: d.category, Class: d.class, Body: body,
			Assignment: assignment(id, version, d.category, d.flags, body),
		})
	}
	return set, nil
}
