package rules

// CheckID names a consistency check of spec §5.
type CheckID string

// The consistency checks of spec/caucus-rules.md §5; table below describes each.
const (
	C01 CheckID = "C01"
	C02 CheckID = "C02"
	C03 CheckID = "C03"
	C04 CheckID = "C04"
	C05 CheckID = "C05"
	C06 CheckID = "C06"
	C07 CheckID = "C07"
	C08 CheckID = "C08"
	C09 CheckID = "C09"
	C10 CheckID = "C10"
	C11 CheckID = "C11"
	C12 CheckID = "C12"
	C13 CheckID = "C13"
	C14 CheckID = "C14"
	C15 CheckID = "C15"
	C16 CheckID = "C16"
	C17 CheckID = "C17"
	C18 CheckID = "C18"
	C19 CheckID = "C19"
	C20 CheckID = "C20"
	C21 CheckID = "C21"
	C22 CheckID = "C22"
	C23 CheckID = "C23"
)

// Lang is a language the check messages are written in.
type Lang string

// The languages of the check table.
const (
	English Lang = "en"
	Spanish Lang = "es"
)

// Langs lists the languages of the check table, English first.
func Langs() []Lang { return []Lang{English, Spanish} }

// words is one text in each language.
type words struct{ en, es string }

func (w words) in(l Lang) string {
	if l == Spanish {
		return w.es
	}
	return w.en
}

// list says how a list argument is written: each item with its own template, joined either as
// "a, b and c" (sep "and") or with semicolons (sep ";", for items that are whole clauses).
type list struct {
	item words
	sep  string
}

// checkDef describes one check once: its live severity (§5), a short title, the message (a
// template over its arguments, see render) and the templates of its list arguments.
type checkDef struct {
	id       CheckID
	severity Severity
	title    words
	args     []string // the argument names the code gives, top level and inside list items
	message  words
	lists    map[string]list
}

// The templates' syntax (render.go): {name} is an argument's value (a number, a text, a
// candidate's name, or a list); {name|one|other} chooses by a number (or a list's length), with
// # for the number; {name|zero|one|other} adds a choice for 0; {name|key:text|*:text} chooses by
// a text ("*" matches any text that is not empty; no match writes nothing).
var table = []checkDef{
	{id: C01, severity: Error,
		title: words{"the input is not valid", "un dato no es válido"},
		args:  []string{"problems", "problem", "more", "kind", "field", "candidate", "value", "min", "max"},
		message: words{
			"the numbers cannot be used: {problems}{more||; and # more problem|; and # more problems}",
			"los números no se pueden usar: {problems}{more||; y # problema más|; y # problemas más}"},
		// Each problem is its English sentence; a count out of range and a missing field are also
		// typed (kind, field, candidate, value, min, max), so Spanish writes them itself.
		lists: map[string]list{"problems": {words{"{problem}",
			"{kind|count:{field|attendees:el número de registrados|delegates_to_elect:el número de delegados a elegir|first:la primera alineación de {candidate}|final:la alineación final de {candidate}|delegates:el número de delegados de {candidate} en la hoja} es {value}; debe ser un número entero de {min} a {max}" +
				"|missing:falta {field|attendees:el número de registrados|delegates_to_elect:el número de delegados a elegir|first:la primera alineación|final:la alineación final}" +
				"|*:{problem}}"}, ";"}}},
	{id: C02, severity: Error,
		title: words{"a candidate that is not in this election", "un candidato que no está en esta elección"},
		args:  []string{"ids", "id"},
		message: words{
			"{ids|{ids} is not a candidate in this election|{ids} are not candidates in this election}: check the spelling against the list of candidates",
			"{ids|{ids} no es candidato en esta elección|{ids} no son candidatos en esta elección}: revise la ortografía con la lista de candidatos"},
		lists: map[string]list{"ids": {words{"'{id}'", "'{id}'"}, "and"}}},
	{id: C03, severity: Error,
		title: words{"more people in the first alignment than signed in", "más personas en la primera alineación que registradas"},
		args:  []string{"first", "attendees"},
		message: words{
			"the first alignment has {first|# person|# people} but only {attendees} signed in: check the sign-in count and each group",
			"la primera alineación tiene {first|# persona|# personas} pero solo se registraron {attendees}: revise el registro y cada grupo"}},
	{id: C04, severity: Error,
		title: words{"more people in the final alignment than in the first", "más personas en la alineación final que en la primera"},
		args:  []string{"final", "first"},
		message: words{
			"the final alignment has {final|# person|# people} but the first alignment had {first}: nobody joins after the first alignment, so check each group",
			"la alineación final tiene {final|# persona|# personas} pero la primera tenía {first}: nadie se une después de la primera alineación; revise cada grupo"}},
	{id: C05, severity: Warning,
		title: words{"fewer people in the first alignment than signed in", "menos personas en la primera alineación que registradas"},
		args:  []string{"attendees", "first", "missing"},
		message: words{
			"{attendees} signed in but only {first} {first|is|are} in a first-alignment group ({missing} not counted): count the groups again, or correct the sign-in count",
			"se registraron {attendees} pero solo {first} {first|está|están} en un grupo de la primera alineación ({missing} sin contar): cuente los grupos de nuevo o corrija el registro"}},
	{id: C06, severity: Warning,
		title: words{"a viable group lost people", "un grupo viable perdió personas"},
		args:  []string{"groups", "candidate", "first", "final"},
		message: words{
			"{groups}; people in a viable group cannot move to another group, so count {groups|that group|those groups} again (if people went home, the number is right)",
			"{groups}; quien está en un grupo viable no puede cambiar de grupo: cuente de nuevo {groups|ese grupo|esos grupos} (si hubo gente que se fue, el número está bien)"},
		lists: map[string]list{"groups": {words{
			"{candidate} was viable with {first} at first alignment but has {final} in the final",
			"{candidate} era viable con {first} en la primera alineación pero tiene {final} en la final"}, ";"}}},
	{id: C07, severity: Error,
		title: words{"groups gained more people than non-viable groups released", "los grupos ganaron más personas de las que soltaron los grupos no viables"},
		args:  []string{"gained", "released"},
		message: words{
			"the groups grew by {gained|# person|# people} between the first and the final alignment, but the groups that were not viable let go of {released|none|only #|only #}; people in a viable group cannot move: count the final groups again",
			"los grupos crecieron {gained|# persona|# personas} entre la primera y la alineación final, pero los grupos no viables soltaron {released|ninguna|solo #|solo #}; quien está en un grupo viable no puede cambiar: cuente de nuevo los grupos finales"}},
	{id: C08, severity: Warning,
		title: words{"people in a non-viable group in the final alignment", "personas en un grupo no viable en la alineación final"},
		args:  []string{"groups", "candidate", "final", "threshold"},
		message: words{
			"{groups} in the final alignment but a group needs {threshold} to be viable; {groups|it gets|they get} no delegates — record them as not realigned",
			"{groups} en la alineación final pero un grupo necesita {threshold} para ser viable; no {groups|recibe|reciben} delegados: regístrelos como no realineados"},
		lists: map[string]list{"groups": {words{"{candidate} has {final}", "{candidate} tiene {final}"}, "and"}}},
	{id: C09, severity: Warning,
		title: words{"the worksheet gives a delegate to a non-viable group", "la hoja da un delegado a un grupo no viable"},
		args:  []string{"groups", "candidate", "delegates", "people", "threshold"},
		message: words{
			"{groups}; only groups with at least {threshold} people get delegates: check the worksheet",
			"{groups}; solo los grupos con al menos {threshold} personas reciben delegados: revise la hoja"},
		lists: map[string]list{"groups": {words{
			"the worksheet gives {candidate} {delegates|# delegate|# delegates}, but the group is not viable ({people|# person|# people})",
			"la hoja da a {candidate} {delegates|# delegado|# delegados}, pero el grupo no es viable ({people|# persona|# personas})"}, ";"}}},
	{id: C10, severity: Warning,
		title: words{"the worksheet gives no delegate to a viable group", "la hoja no da delegado a un grupo viable"},
		args:  []string{"groups", "candidate", "people"},
		message: words{
			"{groups}; every viable group gets at least 1 delegate: check the worksheet",
			"{groups}; cada grupo viable recibe al menos 1 delegado: revise la hoja"},
		lists: map[string]list{"groups": {words{
			"{candidate} is viable ({people|# person|# people}) but the worksheet gives 0 delegates",
			"{candidate} es viable ({people|# persona|# personas}) pero la hoja le da 0 delegados"}, ";"}}},
	{id: C11, severity: Warning,
		title: words{"the worksheet's delegates do not add up", "los delegados de la hoja no suman bien"},
		args:  []string{"sum", "expected"},
		message: words{
			"the worksheet awards {sum|# delegate|# delegates} but this precinct elects {expected}: check the worksheet",
			"la hoja asigna {sum|# delegado|# delegados} pero este precinto elige {expected}: revise la hoja"}},
	{id: C12, severity: Warning,
		title: words{"the worksheet differs from the computed delegates", "la hoja no coincide con el cálculo"},
		args:  []string{"computed", "worksheet", "candidate", "delegates"},
		message: words{
			"your worksheet says {worksheet}, but the math gives {computed}: check the worksheet's arithmetic, and send the math's numbers if the worksheet is wrong",
			"su hoja dice {worksheet}, pero el cálculo da {computed}: revise las cuentas de la hoja y envíe los números del cálculo si la hoja está mal"},
		lists: map[string]list{
			"computed":  {words{"{candidate} {delegates}", "{candidate} {delegates}"}, "and"},
			"worksheet": {words{"{candidate} {delegates}", "{candidate} {delegates}"}, "and"}}},
	{id: C13, severity: Error,
		title: words{"a game of chance is needed", "hace falta un juego de azar"},
		args:  []string{"kind", "tied", "candidate", "share", "people", "delegates", "lose", "game", "rounds", "settled"},
		// What the app's tie box says: who tosses, for how many delegates, how many winners.
		message: words{
			"{kind|plurality:{tied} are tied with {people|# person|# people} each for the precinct's only delegate|gain:{tied} are tied for {delegates|# more delegate|# more delegates}|loss:{tied} are tied for {delegates|# delegate|# delegates} ({lose|# of them gets|# of them get} one fewer than the rounding gave)}: " +
				"{game|coin:toss a coin|card:draw cards (high card wins)}{rounds|many: as many times as needed} to pick {delegates|# winner|# winners}, and record {delegates|the winner|each winner}" +
				"{settled|published: (the published SDEs show the outcome; it is used)}",
			"{kind|plurality:{tied} empatan con {people|# persona|# personas} cada uno por el único delegado del precinto|gain:{tied} empatan por {delegates|# delegado más|# delegados más}|loss:{tied} empatan por {delegates|# delegado|# delegados} ({lose|# de ellos recibe|# de ellos reciben} uno menos de lo que dio el redondeo)}: " +
				"{game|coin:lancen una moneda|card:saquen cartas (gana la carta más alta)}{rounds|many: tantas veces como haga falta} para elegir {delegates|# ganador|# ganadores} y registren {delegates|al ganador|a cada ganador}" +
				"{settled|published: (los SDE publicados muestran el resultado; se usa)}"},
		lists: map[string]list{"tied": {words{"{candidate}{share|*: ({share})}", "{candidate}{share|*: ({share})}"}, "and"}}},
	{id: C14, severity: Warning,
		title: words{"a recorded game of chance was not needed", "se registró un juego de azar que no hacía falta"},
		args:  []string{"ignored", "what", "game", "between", "candidate", "delegates"},
		message: words{
			"{ignored}; {ignored|it was|they were} ignored",
			"{ignored}; no se {ignored|tuvo|tuvieron} en cuenta"},
		lists: map[string]list{
			"ignored": {words{
				"{what|untied:a {game|coin:coin toss|card:card draw} between {between} was recorded but they were not tied for a delegate|too_many:more winners were recorded than the {delegates|# delegate|# delegates} that the tie decides}",
				"{what|untied:se registró {game|coin:un lanzamiento de moneda|card:un sorteo de cartas} entre {between} pero no empataban por un delegado|too_many:se registraron más ganadores que {delegates|el # delegado|los # delegados} que decide el empate}"}, ";"},
			"between": {words{"{candidate}", "{candidate}"}, "and"}}},
	{id: C15, severity: Warning,
		title: words{"more viable groups than delegates", "más grupos viables que delegados"},
		args:  []string{"viable", "delegates", "none", "candidate", "share"},
		message: words{
			"{viable} groups are viable but there {delegates|is only # delegate|are only # delegates}; {none|each viable group keeps one, so {viable} are awarded|{none} gets none|{none} get none}",
			"hay {viable} grupos viables pero solo {delegates|# delegado|# delegados}; {none|cada grupo viable conserva uno, así que se asignan {viable}|{none} no recibe ninguno|{none} no reciben ninguno}"},
		lists: map[string]list{"none": {words{"{candidate} ({share})", "{candidate} ({share})"}, "and"}}},
	{id: C16, severity: Warning,
		title:   words{"no viable group", "ningún grupo es viable"},
		message: words{"no group is viable, so no delegates are awarded: check that each group is counted right", "ningún grupo es viable, así que no se asignan delegados: revise que cada grupo esté bien contado"}},
	{id: C17, severity: Warning,
		title: words{"published SDEs out of order with the final alignment", "SDE publicados en orden distinto a la alineación final"},
		args:  []string{"pairs", "more", "more_people", "more_sde", "fewer", "fewer_people", "fewer_sde"},
		message: words{
			"{pairs}: a larger group should not have fewer SDEs",
			"{pairs}: un grupo más grande no debería tener menos SDE"},
		lists: map[string]list{"pairs": {words{
			"{more} ({more_people|# person|# people}) has SDE {more_sde} but {fewer} ({fewer_people|# person|# people}) has {fewer_sde}",
			"{more} ({more_people|# persona|# personas}) tiene SDE {more_sde} pero {fewer} ({fewer_people|# persona|# personas}) tiene {fewer_sde}"}, ";"}}},
	{id: C18, severity: Warning,
		title: words{"published SDEs do not add up to the precinct's allotment", "los SDE publicados no suman la asignación del precinto"},
		args:  []string{"sum", "allotment"},
		message: words{
			"the published SDEs add up to {sum} but this precinct's allotment is {allotment}",
			"los SDE publicados suman {sum} pero la asignación de este precinto es {allotment}"}},
	{id: C19, severity: Warning,
		title: words{"published SDE differs from the computed one", "SDE publicado distinto del calculado"},
		args:  []string{"groups", "candidate", "published", "computed"},
		message: words{
			"the published SDE differs from the math: {groups}",
			"el SDE publicado no coincide con el cálculo: {groups}"},
		lists: map[string]list{"groups": {words{
			"{candidate} is {published}, computed {computed}",
			"{candidate} tiene {published}, calculado {computed}"}, ";"}}},
	{id: C20, severity: Warning,
		title: words{"identical to another precinct", "idéntico a otro precinto"},
		args:  []string{"precinct", "other"},
		message: words{
			"the first and final numbers are identical to {precinct|*:precinct {precinct}}{other||entry # of others|entry # of others}: a duplicate entry?",
			"los números de la primera alineación y la final son idénticos a {precinct|*:los del precinto {precinct}}{other||los de la entrada # de others|los de la entrada # de others}: ¿una entrada duplicada?"}},
	{id: C21, severity: Warning,
		title: words{"a loss and an equal gain on adjacent lines", "una pérdida y una ganancia iguales en líneas vecinas"},
		args:  []string{"lost", "gained", "people"},
		message: words{
			"{lost} lost {people} and the next line, {gained}, gained {people}: was a number typed on the wrong line? Check both lines against the worksheet",
			"{lost} perdió {people} y la línea siguiente, {gained}, ganó {people}: ¿se escribió un número en la línea equivocada? Revise las dos líneas con la hoja"}},
	{id: C22, severity: Warning,
		title: words{"satellite delegates do not match its attendance", "los delegados del satélite no corresponden a la asistencia"},
		args:  []string{"attendees", "band", "delegates"},
		message: words{
			"a satellite with {attendees|# attendee|# attendees} elects {band|# delegate|# delegates}, not {delegates}",
			"un satélite con {attendees|# asistente|# asistentes} elige {band|# delegado|# delegados}, no {delegates}"}},
	{id: C23, severity: Warning,
		title: words{"early cards with too few or too many choices", "tarjetas anticipadas con muy pocas o demasiadas opciones"},
		args:  []string{"void"},
		message: words{
			"{void|# early card lists|# early cards list} fewer than 3 or more than 5 choices and {void|was|were} set aside",
			"{void|# tarjeta anticipada tiene|# tarjetas anticipadas tienen} menos de 3 o más de 5 opciones y {void|se apartó|se apartaron}"}},
}

// def returns the table's description of a check, or nil for an unknown ID.
func (id CheckID) def() *checkDef {
	for i := range table {
		if table[i].id == id {
			return &table[i]
		}
	}
	return nil
}

// CheckIDs lists every check of the table, in ID order.
func CheckIDs() []CheckID {
	ids := make([]CheckID, len(table))
	for i, d := range table {
		ids[i] = d.id
	}
	return ids
}

// Title is a short description of the check, for summaries.
func (id CheckID) Title() string { return id.TitleIn(English) }

// TitleIn is the check's short description in a language.
func (id CheckID) TitleIn(l Lang) string {
	if d := id.def(); d != nil {
		return d.title.in(l)
	}
	return string(id)
}

// liveSeverity is each check's severity for a live submission (§5 table).
func (id CheckID) liveSeverity() Severity {
	if d := id.def(); d != nil {
		return d.severity
	}
	return Warning
}

// Words returns the table in one language as the chair app's word list keys: "check.C05" the
// title, "check.C05.text" the message template, "check.C05.item.groups" and "check.C05.sep.groups"
// a list argument's item template and separator ("and" or ";"), and "check.and" the word that
// joins the last two items of a list. The app renders a check from its ID and args with them,
// the same way Check.In does.
func Words(l Lang) map[string]string {
	m := map[string]string{"check.and": andWord(l)}
	for _, d := range table {
		k := "check." + string(d.id)
		m[k] = d.title.in(l)
		m[k+".text"] = d.message.in(l)
		for name, li := range d.lists {
			m[k+".item."+name] = li.item.in(l)
			m[k+".sep."+name] = li.sep
		}
	}
	return m
}

func andWord(l Lang) string {
	if l == Spanish {
		return "y"
	}
	return "and"
}
