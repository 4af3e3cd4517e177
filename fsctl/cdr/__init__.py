"""Call detail records: intake from mod_json_cdr/mod_xml_cdr, the spool importer, classification, history."""
