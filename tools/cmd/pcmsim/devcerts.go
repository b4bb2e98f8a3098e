package main

import (
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/pcm-otel/pcmexporter/tools/internal/pcmsim"
)

func devCerts(args []string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("pcmsim dev-certs", flag.ContinueOnError)
	fset.SetOutput(stderr)
	dir := fset.String("dir", defaultCertsDir, "output directory")
	orgs := fset.String("orgs", "", "organisations: name=ORG_UUID[:SOFTWARE_STATEMENT_UUID[:CLIENT_ID]],... (software statement default: a UUID derived from name and org; client_id default: the software statement id)")
	hosts := fset.String("hosts", "", "extra server certificate names/addresses besides localhost, 127.0.0.1 and ::1 (comma-separated)")
	force := fset.Bool("force", false, "recreate the CA and all certificates, and rewrite directory.json from -orgs only")
	if err := parseFlags(fset, args); err != nil {
		return err
	}
	if *orgs == "" {
		fmt.Fprintln(stderr, "dev-certs: -orgs is required")
		fset.Usage()
		return errUsage
	}
	list, err := pcmsim.ParseOrgs(*orgs)
	if err != nil {
		return fmt.Errorf("-orgs: %w", err)
	}
	res, err := pcmsim.GenerateDevCerts(pcmsim.DevCertsOptions{Dir: *dir, Orgs: list, Hosts: splitList(*hosts), Force: *force})
	if err != nil {
		return err
	}
	for _, f := range res.Created {
		fmt.Fprintln(stdout, "wrote", f)
	}
	for _, f := range res.Kept {
		fmt.Fprintln(stdout, "kept ", f)
	}
	fmt.Fprintln(stdout)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tORG ID\tSOFTWARE STATEMENT\tCLIENT ID\tCERTIFICATE")
	for _, o := range res.Directory.Orgs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", o.Name, o.OrgID, o.SoftwareStatementID, o.ClientID, o.CertFile)
	}
	return tw.Flush()
}
