package dataset

import "strings"

// Word lists the text generators draw from. They are plain constants split
// once per run into a vocab, so nothing global is mutable.
const (
	wordList = `the of and to a in is it you that he was for on are with as his they be at one have this from
or had by hot word but what some we can out other were all there when up use your how said an each she which do their time
if will way about many then them write would like so these her long make thing see him two has look more day could go come
did number sound no most people my over know water than call first who may down side been now find any new work part take
get place made live where after back little only round man year came show every good me give our under name very through
just form sentence great think say help low line differ turn cause much mean before move right boy old too same tell does
set three want air well also play small end put home read hand port large spell add even land here must big high such follow
act why ask men change went light kind off need house picture try us again animal point mother world near build self earth
father head stand own page should country found answer school grow study still learn plant cover food sun four between state
keep eye never last let thought city tree cross farm hard start might story saw far sea draw left late run while press close
night real life few north open seem together next white children begin got walk example ease paper group always music those
both mark often letter until mile river car feet care second book carry took science eat room friend began idea fish mountain
stop once base hear horse cut sure watch color face wood main enough plain girl usual young ready above ever red list though
feel talk bird soon body dog family direct pose leave song measure door product black short numeral class wind question happen
complete ship area half rock order fire south problem piece told knew pass since top whole king space heard best hour better
true during hundred five remember step early hold west ground interest reach fast verb sing listen six table travel less morning`

	identList = `buf err ctx req resp data key value index count offset length size node tree blob pack chunk hash
id name path file dir entry item list cache store repo backend config opts result state mu wg done ch tmp src dst
reader writer encoder decoder cipher nonce mac token user session handler server client conn addr port timeout retry limit`

	levelList     = `DEBUG INFO INFO INFO INFO WARN ERROR`
	componentList = `api worker scheduler db cache auth billing indexer uploader gc`
	methodList    = `GET GET GET POST PUT DELETE PATCH`
	urlList       = `/api/v1/users /api/v1/orders /api/v2/items /static/js/app.js /static/css/main.css /login /logout
/healthz /metrics /api/v1/search /images/logo.png /api/v1/reports`
	statusList  = `200 200 200 200 200 201 204 301 304 400 401 403 404 500 502`
	eventList   = `page_view click scroll add_to_cart checkout login logout search error`
	countryList = `US DE FR GB JP BR IN CA NL SE`
)

// agentList is separated by newlines: user agents contain spaces.
const agentList = `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36
Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0
curl/8.5.0
Go-http-client/1.1
python-requests/2.31.0
Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148`

// vocab holds the split word lists; it is read-only once built and shared
// by concurrent generators.
type vocab struct {
	words, idents, levels, components, methods, urls, statuses, events, countries, agents []string
}

func newVocab() *vocab {
	return &vocab{
		words:      strings.Fields(wordList),
		idents:     strings.Fields(identList),
		levels:     strings.Fields(levelList),
		components: strings.Fields(componentList),
		methods:    strings.Fields(methodList),
		urls:       strings.Fields(urlList),
		statuses:   strings.Fields(statusList),
		events:     strings.Fields(eventList),
		countries:  strings.Fields(countryList),
		agents:     strings.Split(agentList, "\n"),
	}
}
