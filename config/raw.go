package config

// The raw* types mirror the file one to one. Optional scalars are pointers
// so that an explicit zero is told apart from an absent key: an absent key
// takes its default, a written one is checked.

type rawConfig struct {
	EAL       []string      `toml:"eal"`
	Lcores    *[]int        `toml:"lcores"`
	Idle      *string       `toml:"idle"`
	Burst     *int          `toml:"burst"`
	LogLevel  *string       `toml:"log_level"`
	Metrics   rawMetrics    `toml:"metrics"`
	Ports     []rawPort     `toml:"port"`
	Routes    []rawRoute    `toml:"route"`
	Neighbors []rawNeighbor `toml:"neighbor"`
	Mempool   rawMempool    `toml:"mempool"`
	Proxy     rawProxy      `toml:"proxy"`
}

type rawMetrics struct {
	Listen *string `toml:"listen"`
}

type rawPort struct {
	Name      string   `toml:"name"`
	Device    string   `toml:"device"`
	Devices   []string `toml:"devices"`
	Role      string   `toml:"role"`
	Addresses []string `toml:"addresses"`
	MTU       *int     `toml:"mtu"`
	Queues    *int     `toml:"queues"`
	RxDesc    *int     `toml:"rx_desc"`
	TxDesc    *int     `toml:"tx_desc"`
	MAC       *string  `toml:"mac"`
}

type rawRoute struct {
	Prefix string `toml:"prefix"`
	Via    string `toml:"via"`
	Port   string `toml:"port"`
}

type rawNeighbor struct {
	IP   string `toml:"ip"`
	MAC  string `toml:"mac"`
	Port string `toml:"port"`
}

type rawMempool struct {
	Mbufs    *int `toml:"mbufs"`
	Cache    *int `toml:"cache"`
	DataRoom *int `toml:"data_room"`
}

type rawProxy struct {
	Enabled          *bool     `toml:"enabled"`
	Translate        *[]string `toml:"translate"`
	Ports            *[]string `toml:"ports"`
	Scheduler        *string   `toml:"scheduler"`
	MaxConnections   *int      `toml:"max_connections"`
	MaxSubflows      *int      `toml:"max_subflows"`
	JoinSubflows     *int      `toml:"join_subflows"`
	SackTables       *int      `toml:"sack_tables"`
	Checksum         *string   `toml:"checksum"`
	Timestamps       *string   `toml:"timestamps"`
	SYNTimeout       *string   `toml:"syn_timeout"`
	JoinTimeout      *string   `toml:"join_timeout"`
	IdleTimeout      *string   `toml:"idle_timeout"`
	Linger           *string   `toml:"linger"`
	SubflowDeadAfter *string   `toml:"subflow_dead_after"`

	SubflowStaleAfter *string            `toml:"subflow_stale_after"`
	StalePrompt       *bool              `toml:"stale_prompt"`
	ThinServerAcks    *bool              `toml:"thin_server_acks"`
	BackupPorts       *[]string          `toml:"backup_ports"`
	PortPriority      *[]string          `toml:"port_priority"`
	SchedulerRules    []rawSchedulerRule `toml:"scheduler_rule"`
}

type rawSchedulerRule struct {
	Prefix    string `toml:"prefix"`
	Scheduler string `toml:"scheduler"`
}
