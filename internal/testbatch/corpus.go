package testbatch // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/testbatch"

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// TranslateCorpus is FuzzTranslate's corpus, relative to the module root:
// the stages' own fuzz targets start from its inputs too.
const TranslateCorpus = "testdata/fuzz/FuzzTranslate"

// ParseCorpusFile reads a corpus file of a fuzz target whose one argument
// is a []byte.
func ParseCorpusFile(raw []byte) ([]byte, error) {
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 1<<20)
	if !sc.Scan() || sc.Text() != "go test fuzz v1" {
		return nil, errors.New("not a fuzz corpus file (go test fuzz v1)")
	}
	if !sc.Scan() {
		return nil, errors.New("no argument")
	}
	literal, ok := strings.CutPrefix(sc.Text(), "[]byte(")
	if !ok {
		return nil, errors.New("not a []byte argument")
	}
	if literal, ok = strings.CutSuffix(literal, ")"); !ok {
		return nil, errors.New("not a []byte argument")
	}
	data, err := strconv.Unquote(literal)
	if err != nil {
		return nil, err
	}
	if sc.Scan() {
		return nil, errors.New("more than one argument")
	}
	return []byte(data), nil
}

// CorpusInputs reads every corpus file in dir, by name.
func CorpusInputs(dir string) (map[string][]byte, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	inputs := map[string][]byte{}
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		data, err := ParseCorpusFile(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
		inputs[e.Name()] = data
	}
	return inputs, nil
}
