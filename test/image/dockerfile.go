package image

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
)

// dockerStage is what one stage of a Dockerfile says, as far as
// ProductImage mirrors it. Instructions it does not mirror are kept in
// Other so a comparison can refuse them.
type dockerStage struct {
	From, Name      string
	Copies          []dockerCopy
	Runs            []string
	User            string
	Expose          []string // "9121/tcp"
	Entrypoint, Cmd []string
	Other           []string // instruction lines without a field here
}

// dockerCopy is one file a COPY puts in the stage.
type dockerCopy struct {
	From  string // --from's stage, "" for the build context
	Src   string
	Dest  string // the file's path in the image
	Flags []string
}

// parseDockerfile splits a Dockerfile's text into its stages. It reads
// the instructions ProductImage depends on; continuation lines and
// comments are handled as Docker does, heredocs are not.
func parseDockerfile(text string) ([]dockerStage, error) {
	var stages []dockerStage
	for _, line := range logicalLines(text) {
		keyword, rest, _ := strings.Cut(line, " ")
		keyword = strings.ToUpper(keyword)
		rest = strings.TrimSpace(rest)
		if keyword == "FROM" {
			words := strings.Fields(rest)
			st := dockerStage{}
			for _, w := range words {
				if !strings.HasPrefix(w, "--") {
					st.From = w
					break
				}
			}
			if n := len(words); n >= 3 && strings.EqualFold(words[n-2], "AS") {
				st.Name = words[n-1]
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			if keyword == "ARG" {
				continue // global build arguments come before the first FROM
			}
			return nil, fmt.Errorf("%s before FROM", keyword)
		}
		st := &stages[len(stages)-1]
		var err error
		switch keyword {
		case "COPY":
			var copies []dockerCopy
			copies, err = parseCopy(rest)
			st.Copies = append(st.Copies, copies...)
		case "RUN":
			st.Runs = append(st.Runs, rest)
		case "USER":
			st.User = rest
		case "EXPOSE":
			for _, p := range strings.Fields(rest) {
				if !strings.Contains(p, "/") {
					p += "/tcp"
				}
				st.Expose = append(st.Expose, p)
			}
		case "ENTRYPOINT":
			st.Entrypoint, err = execForm(rest)
		case "CMD":
			st.Cmd, err = execForm(rest)
		default:
			st.Other = append(st.Other, line)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", line, err)
		}
	}
	if len(stages) == 0 {
		return nil, fmt.Errorf("no FROM")
	}
	return stages, nil
}

// logicalLines joins continuation lines (a trailing backslash) and drops
// comments and blank lines, inside a continued instruction too, as
// Docker does.
func logicalLines(text string) []string {
	var out []string
	var cur strings.Builder
	for _, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(strings.TrimSpace(cont) + " ")
			continue
		}
		cur.WriteString(line)
		if s := strings.TrimSpace(cur.String()); s != "" {
			out = append(out, s)
		}
		cur.Reset()
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

// parseCopy reads COPY's flags, sources and destination (either form);
// several sources, or a destination ending in a slash, put each source's
// base name in that directory.
func parseCopy(rest string) ([]dockerCopy, error) {
	words := strings.Fields(rest)
	var from string
	var flags []string
	for len(words) > 0 && strings.HasPrefix(words[0], "--") {
		if v, ok := strings.CutPrefix(words[0], "--from="); ok {
			from = v
		} else {
			flags = append(flags, words[0])
		}
		words = words[1:]
	}
	if len(words) > 0 && strings.HasPrefix(words[0], "[") {
		var err error
		if words, err = execForm(strings.Join(words, " ")); err != nil {
			return nil, err
		}
	}
	if len(words) < 2 {
		return nil, fmt.Errorf("COPY needs a source and a destination")
	}
	srcs, dest := words[:len(words)-1], words[len(words)-1]
	intoDir := len(srcs) > 1 || strings.HasSuffix(dest, "/")
	copies := make([]dockerCopy, 0, len(srcs))
	for _, src := range srcs {
		d := dest
		if intoDir {
			d = path.Join(dest, path.Base(src))
		}
		copies = append(copies, dockerCopy{From: from, Src: src, Dest: d, Flags: flags})
	}
	return copies, nil
}

// execForm reads a JSON array; the shell form runs under /bin/sh -c, as
// Docker runs it.
func execForm(rest string) ([]string, error) {
	if !strings.HasPrefix(rest, "[") {
		return []string{"/bin/sh", "-c", rest}, nil
	}
	var args []string
	if err := json.Unmarshal([]byte(rest), &args); err != nil {
		return nil, fmt.Errorf("exec form: %w", err)
	}
	return args, nil
}

// goBuild finds the stage's `go build` RUN and returns its environment
// assignments and go's arguments with variables expanded and -o dropped
// (the output directory is the caller's).
func goBuild(st dockerStage, vars map[string]string) (env, args []string, err error) {
	for _, run := range st.Runs {
		words, err := shellWords(run)
		if err != nil {
			return nil, nil, err
		}
		i := slices.Index(words, "go")
		if i < 0 || i+1 >= len(words) || words[i+1] != "build" {
			continue
		}
		for _, w := range words[:i] {
			env = append(env, expand(w, vars))
		}
		rest := words[i+1:]
		for j := 0; j < len(rest); j++ {
			if rest[j] == "-o" {
				j++
				continue
			}
			args = append(args, expand(rest[j], vars))
		}
		return env, args, nil
	}
	return nil, nil, fmt.Errorf("stage %s: no RUN with go build", st.Name)
}

// shellWords splits a command line at blanks outside quotes. Enough for a
// RUN line of assignments and one command, not a shell.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	var quote rune
	inWord := false
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case strings.ContainsRune("|&;<>()", r):
			return nil, fmt.Errorf("shell operator %q in %q: only one simple command is understood", r, s)
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

func expand(w string, vars map[string]string) string {
	for k, v := range vars {
		w = strings.ReplaceAll(w, "${"+k+"}", v)
		w = strings.ReplaceAll(w, "$"+k, v)
	}
	return w
}

// productMismatches compares a parsed Dockerfile with ProductImage and
// productBuildArgs, one line per difference; none means the harness's
// image is the Dockerfile's.
func productMismatches(stages []dockerStage, im Image, version string) []string {
	final := stages[len(stages)-1]
	var diffs []string
	differ := func(what string, file, ours any) {
		diffs = append(diffs, fmt.Sprintf("%s: Dockerfile %v, ProductImage %v", what, file, ours))
	}
	if final.From != productBase {
		differ("final base (whose files ProductImage lays down)", final.From, productBase)
	}
	for _, line := range final.Other {
		diffs = append(diffs, "final stage: not mirrored by ProductImage: "+line)
	}
	if len(final.Runs) > 0 {
		diffs = append(diffs, fmt.Sprintf("final stage: RUN not mirrored by ProductImage: %q", final.Runs))
	}

	var copied []string
	buildStages := map[string]bool{}
	for _, c := range final.Copies {
		copied = append(copied, c.Dest)
		if c.From == "" {
			diffs = append(diffs, "final stage copies "+c.Src+" from the build context, ProductImage only built binaries")
		} else {
			buildStages[c.From] = true
		}
		if len(c.Flags) > 0 {
			diffs = append(diffs, fmt.Sprintf("COPY %s: flags %v not mirrored by ProductImage", c.Src, c.Flags))
		}
		if path.Base(c.Src) != path.Base(c.Dest) {
			differ("COPY "+c.Src+" renames to", c.Dest, "the binary's name")
		}
	}
	var ours []string
	for _, f := range im.Files {
		if strings.HasPrefix(f.Path, "/usr/local/bin/") {
			ours = append(ours, f.Path)
		}
	}
	sort.Strings(copied)
	sort.Strings(ours)
	if !slices.Equal(copied, ours) {
		differ("files copied from the build", copied, ours)
	}
	if final.User != im.User {
		differ("USER", final.User, im.User)
	}
	if !slices.Equal(final.Expose, im.ExposedPorts) {
		differ("EXPOSE", final.Expose, im.ExposedPorts)
	}
	if !slices.Equal(final.Entrypoint, im.Entrypoint) {
		differ("ENTRYPOINT", final.Entrypoint, im.Entrypoint)
	}
	if !slices.Equal(final.Cmd, im.Cmd) {
		differ("CMD", final.Cmd, im.Cmd)
	}

	for _, st := range stages[:len(stages)-1] {
		if !buildStages[st.Name] {
			continue
		}
		env, args, err := goBuild(st, map[string]string{"VERSION": version})
		if err != nil {
			diffs = append(diffs, err.Error())
			continue
		}
		if !slices.Equal(env, []string{"CGO_ENABLED=0"}) {
			differ("go build environment", env, []string{"CGO_ENABLED=0"})
		}
		want := slices.DeleteFunc(productBuildArgs(version), func(a string) bool { return a == "-buildvcs=false" })
		if !slices.Equal(args, want) {
			differ("go build arguments", args, want)
		}
		delete(buildStages, st.Name)
	}
	for name := range buildStages {
		diffs = append(diffs, "COPY --from="+name+": no such build stage before the final one")
	}
	return diffs
}
