package cluster

import (
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// writeKubeconfig writes a self-contained kubeconfig (all credentials inline)
// for cfg, so the file can be handed to any process or kubectl.
func writeKubeconfig(path, user, namespace string, cfg *rest.Config) error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["local"] = &clientcmdapi.Cluster{
		Server:                   cfg.Host,
		CertificateAuthorityData: cfg.CAData,
	}
	kc.AuthInfos[user] = &clientcmdapi.AuthInfo{
		ClientCertificateData: cfg.CertData,
		ClientKeyData:         cfg.KeyData,
		Token:                 cfg.BearerToken,
	}
	kc.Contexts["local"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: user, Namespace: namespace}
	kc.CurrentContext = "local"
	return clientcmd.WriteToFile(*kc, path)
}

// tokenConfig derives a config that authenticates with a bearer token only.
func tokenConfig(base *rest.Config, token string) *rest.Config {
	return &rest.Config{
		Host:            base.Host,
		TLSClientConfig: rest.TLSClientConfig{CAData: base.CAData},
		BearerToken:     token,
		QPS:             base.QPS,
		Burst:           base.Burst,
	}
}
